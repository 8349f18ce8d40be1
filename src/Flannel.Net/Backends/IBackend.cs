using System.Net;

namespace Flannel.Net.Backends;

/// <summary>
/// One flannel backend's kernel side. Call order: <see cref="Prepare"/> (before the lease: device exists, LeaseData known),
/// <see cref="Configure"/> (after the lease), then <see cref="Reconcile"/> at start, on netlink change notifications and
/// periodically; <see cref="Teardown"/> only when the backend is given up (a restart keeps the state).
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>"udp", "vxlan" or "host-gw".</summary>
    string Type { get; }

    /// <summary>MTU pods should use (FLANNEL_MTU in subnet.env).</summary>
    int Mtu { get; }

    /// <summary>JSON advertised in the lease: vxlan {"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}; null for udp and host-gw.</summary>
    string? LeaseData { get; }

    /// <summary>Creates the device (if any) and validates the environment. Before the lease is acquired.</summary>
    void Prepare();

    /// <summary>Addresses the device and installs the network route, once the lease is known.</summary>
    void Configure(IPNetwork network, IPNetwork lease);

    /// <summary>Makes the kernel match the desired state for <paramref name="peers"/>: adds what is missing, fixes what is wrong,
    /// removes what this backend owns but no longer wants. Idempotent; a second call right after reports no changes.</summary>
    ReconcileReport Reconcile(IReadOnlyCollection<PeerLease> peers);

    /// <summary>Desired versus actual state per peer, without changing anything.</summary>
    IReadOnlyList<PeerRouteStatus> Inspect(IReadOnlyCollection<PeerLease> peers);

    /// <summary>Removes the device, routes, FDB entries and neighbours this backend owns.</summary>
    void Teardown();
}

/// <summary>Kinds of kernel objects a reconcile pass changes (the <c>kind</c> label of flannel_reconcile_repairs_total).</summary>
public static class ReconcileKind
{
    public const string Route = "route";
    public const string Neighbour = "neighbour";
    public const string Fdb = "fdb";
    public const string Link = "link";
    public const string Address = "address";
}

/// <summary>One kernel object a reconcile pass changed.</summary>
/// <param name="Kind">A <see cref="ReconcileKind"/>.</param>
/// <param name="Subnet">The peer subnet it serves (a route's destination), null for the device and its address.</param>
/// <param name="Text">For people: "add route 10.244.2.0/24 via ... dev flannel.1".</param>
public sealed record ReconcileChange(string Kind, IPNetwork? Subnet, string Text)
{
    public override string ToString() => Text;
}

/// <summary>What one reconcile pass did: the counts, each change made, and the errors of the changes that failed.</summary>
public sealed record ReconcileReport(int Added, int Fixed, int Removed, IReadOnlyList<ReconcileChange> Changes, IReadOnlyList<string> Errors)
{
    public static ReconcileReport Empty { get; } = new(0, 0, 0, [], []);

    /// <summary>True when the kernel already matched (nothing changed, nothing failed).</summary>
    public bool InSync => Added == 0 && Fixed == 0 && Removed == 0 && Errors.Count == 0;

    /// <summary>Number of kernel objects changed.</summary>
    public int Repairs => Added + Fixed + Removed;
}

public enum PeerRouteState
{
    /// <summary>Route (and for vxlan neighbour and FDB entry) present and correct.</summary>
    InSync,
    /// <summary>Something is missing or wrong in the kernel; <see cref="PeerRouteStatus.Drift"/> says what.</summary>
    Drift,
    /// <summary>Not programmed by this backend (other backend type, invalid backend data, or our own lease).</summary>
    Ignored,
}

/// <summary>One peer as seen by `flanneld ctl routes`: what we want in the kernel, what is there, and the differences.</summary>
public sealed record PeerRouteStatus(
    IPNetwork Subnet, IPAddress PublicIp, string BackendType, PeerRouteState State, string Desired, string? Actual,
    IReadOnlyList<string> Drift);
