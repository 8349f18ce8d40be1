using System.Net;
using System.Net.Sockets;
using Flannel.Net.Interfaces;
using Flannel.Net.Netlink;

namespace Flannel.Net.Backends;

/// <summary>
/// What the three backends share: the netlink client (owned or lent), the external interface, the lease once configured,
/// the rule for which routes are ours, and a lock so reconcile passes from different threads do not interleave.
/// </summary>
public abstract class KernelBackend : IBackend
{
    private readonly bool _ownsNetlink;

    protected KernelBackend(ExternalInterface iface, BackendOptions options)
    {
        Interface = iface;
        Options = options;
        _ownsNetlink = options.Netlink is null;
        Netlink = options.Netlink ?? new RtNetlink();
    }

    protected RtNetlink Netlink { get; }
    protected ExternalInterface Interface { get; }
    protected BackendOptions Options { get; }
    protected object Gate { get; } = new();
    protected IPNetwork? Network { get; private set; }
    protected IPNetwork? Lease { get; private set; }

    public abstract string Type { get; }

    /// <summary>The device this backend uses (flannel.&lt;VNI&gt;, flannel0), null for host-gw.</summary>
    public abstract string? DeviceName { get; }

    public int Mtu { get; protected set; }

    /// <summary>What <see cref="Configure"/> removed as left over by another backend or network (for the log).</summary>
    public IReadOnlyList<string> StaleStateRemoved { get; private set; } = [];
    public string? LeaseData { get; protected set; }

    public abstract void Prepare();

    public void Configure(IPNetwork network, IPNetwork lease)
    {
        if (network.BaseAddress.AddressFamily != AddressFamily.InterNetwork || lease.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"{Type}: network {network} and lease {lease} must be IPv4");
        if (!network.Contains(lease.BaseAddress) || lease.PrefixLength < network.PrefixLength)
            throw new ArgumentException($"{Type}: lease {lease} is not inside network {network}");
        lock (Gate)
        {
            Network = network;
            Lease = lease;
            if (Options.CleanStaleState)
                StaleStateRemoved = new StaleStateCleaner(Netlink).Clean(Type, DeviceName, network, Interface);
            ConfigureKernel();
        }
    }

    protected abstract void ConfigureKernel();

    public ReconcileReport Reconcile(IReadOnlyCollection<PeerLease> peers)
    {
        lock (Gate)
        {
            RequireConfigured();
            _names = null;
            var recorder = new ReconcileRecorder();
            ReconcileKernel(peers, recorder);
            return recorder.ToReport();
        }
    }

    protected abstract void ReconcileKernel(IReadOnlyCollection<PeerLease> peers, ReconcileRecorder recorder);

    public IReadOnlyList<PeerRouteStatus> Inspect(IReadOnlyCollection<PeerLease> peers)
    {
        lock (Gate)
        {
            RequireConfigured();
            _names = null;
            return InspectKernel(peers);
        }
    }

    protected abstract IReadOnlyList<PeerRouteStatus> InspectKernel(IReadOnlyCollection<PeerLease> peers);

    public void Teardown()
    {
        lock (Gate) TeardownKernel();
    }

    protected abstract void TeardownKernel();

    private Dictionary<int, string>? _names;

    /// <summary>A device's name for messages; one link dump per reconcile/inspect pass instead of a lookup per route.</summary>
    protected string Name(int index)
    {
        _names ??= Netlink.GetLinks().ToDictionary(l => l.Index, l => l.Name);
        if (_names.TryGetValue(index, out var name)) return name;
        name = Netlink.DeviceName(index); // created during this pass
        _names[index] = name;
        return name;
    }

    protected string Describe(RouteInfo r) => RtNetlink.Describe(r, Name);

    /// <summary>Our routes: our protocol number, main table, destination inside the flannel network.</summary>
    protected bool IsOwnedRoute(RouteInfo r) =>
        r.Protocol == Rt.PROT_FLANNEL && r.Table == Rt.TABLE_MAIN && Network is { } n &&
        n.Contains(r.Destination.BaseAddress) && r.Destination.PrefixLength >= n.PrefixLength;

    /// <summary>
    /// Why this backend must not program <paramref name="p"/> (<see cref="PeerFilter.Check"/>: outside Network, our own
    /// lease, a public IP that is not a remote unicast host, bad vxlan data), or null. The route programmer filters the
    /// lease table already; checking again here keeps the kernel safe from any caller.
    /// </summary>
    protected string? Refusal(PeerLease p) =>
        PeerFilter.Check(p, Network!.Value, Lease, Interface.PublicIp) is { } reason ? $"refused ({PeerFilter.Label(reason)})" : null;

    /// <summary>Plans routes against the kernel's table; nothing outside Network is ever added, replaced or removed.</summary>
    protected Plan<RouteInfo> PlanRoutes(IEnumerable<RouteInfo> desired) =>
        ReconcilePlanner.Routes(desired, Netlink.GetRoutes(), Network!.Value, IsOwnedRoute);

    protected void ApplyRoutes(Plan<RouteInfo> plan, ReconcileRecorder recorder)
    {
        foreach (var d in plan.ToAdd) recorder.Add(ReconcileKind.Route, d.Destination, "route " + Describe(d), () => Netlink.ReplaceRoute(d));
        foreach (var (a, d) in plan.ToFix)
            recorder.Fix(ReconcileKind.Route, d.Destination, $"route {Describe(a)} -> {Describe(d)}", () => Netlink.ReplaceRoute(d));
        foreach (var a in plan.ToRemove) recorder.Remove(ReconcileKind.Route, a.Destination, "route " + Describe(a), () => Netlink.DeleteRoute(a));
    }

    /// <summary>Makes <paramref name="address"/> the only IPv4 address of the device (a previous lease's address goes).</summary>
    protected void EnsureSoleAddress(int index, AddressInfo address, ReconcileRecorder? recorder = null)
    {
        var present = Netlink.GetAddresses(index);
        foreach (var a in present.Where(a => !(a.Address.Equals(address.Address) && a.PrefixLength == address.PrefixLength)))
            Do(recorder, false, $"address {a} dev {Name(index)}", () => Netlink.DeleteAddress(a));
        if (!present.Any(a => a.Address.Equals(address.Address) && a.PrefixLength == address.PrefixLength))
            Do(recorder, true, $"address {address} dev {Name(index)}", () => Netlink.AddAddress(address));
    }

    private static void Do(ReconcileRecorder? recorder, bool add, string what, Action apply)
    {
        if (recorder is null) apply();
        else if (add) recorder.Fix(ReconcileKind.Address, null, what, apply);
        else recorder.Remove(ReconcileKind.Address, null, what, apply);
    }

    protected static PeerRouteStatus Ignored(PeerLease p, string reason) =>
        new(p.Subnet, p.PublicIp, p.BackendType, PeerRouteState.Ignored, $"not programmed: {reason}", null, []);

    protected static PeerRouteStatus Status(PeerLease p, string desired, string? actual, List<string> drift) =>
        new(p.Subnet, p.PublicIp, p.BackendType, drift.Count == 0 ? PeerRouteState.InSync : PeerRouteState.Drift, desired, actual, drift);

    /// <summary>Checks one desired route against the kernel's routes for inspection; adds drift lines; returns the actual text.</summary>
    protected string? CheckRoute(RouteInfo desired, ILookup<IPNetwork, RouteInfo> actual, List<string> drift)
    {
        var same = actual[desired.Destination].ToList();
        if (same.Count == 0)
        {
            drift.Add("route missing");
            return null;
        }
        if (!same.Any(a => a.SameForwarding(desired)))
            drift.Add($"route differs: want {Describe(desired)}");
        else if (!same.Any(a => a.SameForwarding(desired) && a.Protocol == desired.Protocol))
            drift.Add($"route not marked as ours (proto {same[0].Protocol})");
        return string.Join("; ", same.Select(a => $"{Describe(a)} proto {a.Protocol}"));
    }

    protected void RequireConfigured()
    {
        if (Network is null || Lease is null) throw new InvalidOperationException($"{Type}: Configure must be called first");
    }

    protected static IPNetwork InterfaceNetwork(ExternalInterface iface) =>
        new(IPNetworks.Mask(iface.Address, iface.PrefixLength), iface.PrefixLength);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing && _ownsNetlink) Netlink.Dispose();
    }
}
