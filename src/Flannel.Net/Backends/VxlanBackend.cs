using System.Net;
using Flannel.Net.Config;
using Flannel.Net.Interfaces;
using Flannel.Net.Netlink;

namespace Flannel.Net.Backends;

/// <summary>
/// flannel's vxlan backend: device flannel.&lt;VNI&gt; (local = interface address, no learning, MTU underlay - 50, address
/// lease/32) and per peer a permanent neighbour (peer subnet IP -> VtepMAC), an FDB entry (VtepMAC -> peer public IP) and
/// an onlink route via the peer subnet IP; with DirectRouting a plain route via the public IP for peers on our L2 subnet.
/// </summary>
public sealed class VxlanBackend : KernelBackend
{
    /// <summary>VXLAN over IPv4: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14.</summary>
    public const int Overhead = 50;

    private readonly VxlanBackendConfig _config;
    private LinkInfo? _link;
    private MacAddress _mac;

    public VxlanBackend(VxlanBackendConfig config, ExternalInterface iface, BackendOptions options) : base(iface, options)
    {
        if (config.Vni is < 0 or > 0xFFFFFF) throw new ArgumentException($"vxlan: VNI {config.Vni} must be 0..16777215");
        if (config.Port is < 0 or > 65535) throw new ArgumentException($"vxlan: Port {config.Port} must be 0..65535");
        _config = config;
        DeviceName = $"flannel.{config.Vni}";
        Mtu = config.Mtu > 0 ? config.Mtu : iface.Mtu - Overhead;
    }

    public override string Type => BackendConfig.Vxlan;

    /// <summary>flannel.&lt;VNI&gt;.</summary>
    public override string DeviceName { get; }

    /// <summary>The VTEP MAC (known after <see cref="Prepare"/>).</summary>
    public MacAddress VtepMac => _mac;

    public override void Prepare()
    {
        lock (Gate)
        {
            _link = EnsureDevice();
            LeaseData = new VxlanLeaseData(_config.Vni, _mac).ToJson();
        }
    }

    /// <summary>Reuses a compatible device (keeping its MAC unless another is supplied), else (re)creates it.</summary>
    private LinkInfo EnsureDevice()
    {
        var existing = Netlink.GetLink(DeviceName);
        if (existing is not null)
        {
            if (IsCompatible(existing))
            {
                _mac = Options.VtepMac ?? existing.Mac ?? MacAddress.NewRandomLocal();
                if (existing.Mac != _mac) Netlink.SetLinkMac(existing.Index, _mac);
                if (existing.Mtu != Mtu) Netlink.SetLinkMtu(existing.Index, Mtu);
                return Netlink.GetLink(existing.Index) ?? throw new NetlinkException($"get link {DeviceName}", Errnos.ENODEV);
            }
            Netlink.DeleteLink(existing.Index);
        }
        // Keep the MAC peers already know (from our previous lease, or from the device we just replaced).
        _mac = Options.VtepMac ?? existing?.Mac ?? MacAddress.NewRandomLocal();
        var link = Netlink.CreateVxlan(new VxlanSpec(DeviceName, (uint)_config.Vni, Interface.Address, Interface.Index,
            (ushort)_config.Port, _config.Learning, _config.Gbp, _mac, Mtu));
        DisableRouterAdvertisements();
        return link;
    }

    private bool IsCompatible(LinkInfo link) =>
        link.Kind == "vxlan" && link.Vxlan is { } vx && vx.Vni == (uint)_config.Vni && Equals(vx.Local, Interface.Address) &&
        vx.UnderlayIndex == Interface.Index && vx.Port == _config.EffectivePort && vx.Learning == _config.Learning &&
        vx.Gbp == _config.Gbp;

    /// <summary>flannel sets accept_ra 0 so the device never takes an IPv6 router's advice. Absent when IPv6 is off.</summary>
    private void DisableRouterAdvertisements()
    {
        var path = $"/proc/sys/net/ipv6/conf/{DeviceName}/accept_ra";
        if (File.Exists(path)) File.WriteAllText(path, "0");
    }

    protected override void ConfigureKernel()
    {
        var link = RequireLink();
        EnsureSoleAddress(link.Index, new AddressInfo(link.Index, Lease!.Value.BaseAddress, 32));
        if (!link.IsUp) Netlink.SetLinkUp(link.Index);
        _link = Netlink.GetLink(link.Index);
    }

    private LinkInfo RequireLink() => _link ?? throw new InvalidOperationException("vxlan: Prepare must be called first");

    /// <summary>What one peer needs in the kernel; Route only for DirectRouting peers. Null with a reason when skipped.</summary>
    private (RouteInfo Route, NeighborInfo? Neighbor, FdbEntry? Fdb)? Desire(PeerLease p, int index, out string? reason)
    {
        reason = null;
        if (Refusal(p) is { } refused) { reason = refused; return null; }
        if (p.BackendType != BackendConfig.Vxlan) { reason = $"backend type '{p.BackendType}'"; return null; }
        if (VxlanLeaseData.TryParse(p.BackendData) is not { } data) { reason = "invalid vxlan backend data"; return null; }
        if (_config.DirectRouting && InterfaceNetwork(Interface).Contains(p.PublicIp))
            return (new RouteInfo(p.Subnet, p.PublicIp, Interface.Index), null, null);
        var gw = p.Subnet.BaseAddress;
        return (new RouteInfo(p.Subnet, gw, index, OnLink: true),
            new NeighborInfo(index, gw, data.VtepMac),
            new FdbEntry(index, data.VtepMac, p.PublicIp));
    }

    protected override void ReconcileKernel(IReadOnlyCollection<PeerLease> peers, ReconcileRecorder recorder)
    {
        var link = Netlink.GetLink(DeviceName);
        if (link is null || !IsCompatible(link))
        {
            recorder.Fix(ReconcileKind.Link, null, $"device {DeviceName} (recreated)", () => { _link = EnsureDevice(); ConfigureKernel(); });
            link = Netlink.GetLink(DeviceName);
            if (link is null) return;
        }
        else
        {
            _link = link;
            EnsureSoleAddress(link.Index, new AddressInfo(link.Index, Lease!.Value.BaseAddress, 32), recorder);
            if (link.Mac != _mac) recorder.Fix(ReconcileKind.Link, null, $"device {DeviceName} address {link.Mac} -> {_mac}", () => Netlink.SetLinkMac(link.Index, _mac));
            if (!link.IsUp) recorder.Fix(ReconcileKind.Link, null, $"device {DeviceName} down", () => Netlink.SetLinkUp(link.Index));
        }

        var desired = peers.Select(p => Desire(p, link.Index, out _)).OfType<(RouteInfo Route, NeighborInfo? Neighbor, FdbEntry? Fdb)>().ToList();
        // Which peer subnet a neighbour (its gateway address) or an FDB entry (its VTEP MAC) serves, for the change records;
        // entries of peers that are gone serve none.
        var subnetOfGateway = new Dictionary<IPAddress, IPNetwork>();
        var subnetOfMac = new Dictionary<MacAddress, IPNetwork>();
        foreach (var d in desired)
        {
            if (d.Neighbor is { } n) subnetOfGateway.TryAdd(n.Address, d.Route.Destination);
            if (d.Fdb is { } f) subnetOfMac.TryAdd(f.Mac, d.Route.Destination);
        }
        IPNetwork? PeerOf(IPAddress gateway) => subnetOfGateway.TryGetValue(gateway, out var subnet) ? subnet : null;
        IPNetwork? PeerOfMac(MacAddress mac) => subnetOfMac.TryGetValue(mac, out var subnet) ? subnet : null;

        // Neighbour and FDB first so the route is usable the moment it appears (flannel's order).
        var neighPlan = ReconcilePlanner.Neighbors(desired.Select(d => d.Neighbor).OfType<NeighborInfo>(), Netlink.GetNeighbors(link.Index), Network!.Value);
        foreach (var n in neighPlan.ToAdd) recorder.Add(ReconcileKind.Neighbour, PeerOf(n.Address), $"neighbour {n.Address} lladdr {n.Mac} dev {DeviceName}", () => Netlink.SetNeighbor(n));
        foreach (var (a, n) in neighPlan.ToFix)
            recorder.Fix(ReconcileKind.Neighbour, PeerOf(n.Address), $"neighbour {n.Address} lladdr {a.Mac} -> {n.Mac} dev {DeviceName}", () => Netlink.SetNeighbor(n));

        var fdbPlan = ReconcilePlanner.Fdb(desired.Select(d => d.Fdb).OfType<FdbEntry>(), Netlink.GetFdb(link.Index), Network!.Value);
        foreach (var f in fdbPlan.ToAdd) recorder.Add(ReconcileKind.Fdb, PeerOfMac(f.Mac), $"fdb {f.Mac} dst {f.Destination} dev {DeviceName}", () => Netlink.AddFdb(f));

        ApplyRoutes(PlanRoutes(desired.Select(d => d.Route)), recorder);

        foreach (var f in fdbPlan.ToRemove) recorder.Remove(ReconcileKind.Fdb, PeerOfMac(f.Mac), $"fdb {f.Mac} dst {f.Destination} dev {DeviceName}", () => Netlink.DeleteFdb(f));
        foreach (var n in neighPlan.ToRemove) recorder.Remove(ReconcileKind.Neighbour, PeerOf(n.Address), $"neighbour {n.Address} lladdr {n.Mac} dev {DeviceName}", () => Netlink.DeleteNeighbor(n));
    }

    protected override IReadOnlyList<PeerRouteStatus> InspectKernel(IReadOnlyCollection<PeerLease> peers)
    {
        var link = Netlink.GetLink(DeviceName);
        var index = link?.Index ?? _link?.Index ?? 0;
        var routes = Netlink.GetRoutes().ToLookup(r => r.Destination);
        var neighbors = (link is null ? [] : Netlink.GetNeighbors(link.Index)).ToLookup(n => n.Address);
        var fdb = link is null ? [] : Netlink.GetFdb(link.Index);
        var fdbByMac = fdb.ToLookup(f => f.Mac);
        var fdbByDst = fdb.Where(f => f.Destination is not null).ToLookup(f => f.Destination!);
        var result = new List<PeerRouteStatus>();
        foreach (var p in peers)
        {
            if (Desire(p, index, out var reason) is not { } d)
            {
                result.Add(Ignored(p, reason!));
                continue;
            }
            var drift = new List<string>();
            if (link is null) drift.Add($"device {DeviceName} missing");
            var desired = Describe(d.Route);
            var actual = CheckRoute(d.Route, routes, drift);
            if (d.Neighbor is { } n)
            {
                desired += $"; neigh {n.Address} lladdr {n.Mac}";
                var an = neighbors[n.Address].FirstOrDefault();
                if (an is null) drift.Add("neighbour missing");
                else if (an.Mac != n.Mac) drift.Add($"neighbour lladdr {an.Mac}, want {n.Mac}");
                if (an is not null) actual += $"; neigh {an.Address} lladdr {an.Mac}";
            }
            if (d.Fdb is { } f)
            {
                desired += $"; fdb {f.Mac} dst {f.Destination}";
                if (fdbByMac[f.Mac].Any(x => Equals(x.Destination, f.Destination))) actual += $"; fdb {f.Mac} dst {f.Destination}";
                else drift.Add("fdb entry missing");
                var stale = fdbByDst[f.Destination!].Where(x => x.Mac != f.Mac).ToList();
                foreach (var s in stale) drift.Add($"stale fdb {s.Mac} dst {s.Destination}");
            }
            result.Add(Status(p, desired, actual, drift));
        }
        return result;
    }

    protected override void TeardownKernel()
    {
        // Deleting the device takes its routes, neighbours and FDB entries with it; DirectRouting routes live on the underlay.
        if (Network is not null)
            foreach (var r in Netlink.GetRoutes().Where(r => IsOwnedRoute(r) && r.OutIndex == Interface.Index))
                Netlink.DeleteRoute(r);
        if (Netlink.GetLink(DeviceName) is { } link) Netlink.DeleteLink(link.Index);
        _link = null;
    }
}
