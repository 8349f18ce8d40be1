using Flannel.Net.Config;
using Flannel.Net.Interfaces;
using Flannel.Net.Netlink;

namespace Flannel.Net.Backends;

/// <summary>flannel's host-gw backend: per peer a route peerSubnet via peer public IP dev iface. Needs all hosts on one L2.</summary>
public sealed class HostGwBackend : KernelBackend
{
    public HostGwBackend(ExternalInterface iface, BackendOptions options) : base(iface, options) => Mtu = iface.Mtu;

    public override string Type => BackendConfig.HostGw;

    public override string? DeviceName => null;

    /// <summary>Like flannel, refuse to start when the advertised public IP is not an address of the interface (NAT breaks host-gw).</summary>
    public override void Prepare()
    {
        if (!Interface.PublicIp.Equals(Interface.Address))
            throw new InvalidOperationException(
                $"host-gw: public IP {Interface.PublicIp} differs from interface {Interface.Name} address {Interface.Address}; " +
                "host-gw needs the peers to reach this host directly on that address");
        var addresses = Netlink.GetAddresses(Interface.Index);
        if (!addresses.Any(a => a.Address.Equals(Interface.PublicIp)))
            throw new InvalidOperationException(
                $"host-gw: public IP {Interface.PublicIp} is not an address of interface {Interface.Name} " +
                $"(it has {(addresses.Count == 0 ? "none" : string.Join(", ", addresses))})");
    }

    protected override void ConfigureKernel() { }

    private RouteInfo? Desire(PeerLease p, out string? reason)
    {
        reason = null;
        if (Refusal(p) is { } refused) { reason = refused; return null; }
        if (p.BackendType != BackendConfig.HostGw) { reason = $"backend type '{p.BackendType}'"; return null; }
        return new RouteInfo(p.Subnet, p.PublicIp, Interface.Index);
    }

    protected override void ReconcileKernel(IReadOnlyCollection<PeerLease> peers, ReconcileRecorder recorder) =>
        ApplyRoutes(PlanRoutes(peers.Select(p => Desire(p, out _)).OfType<RouteInfo>()), recorder);

    protected override IReadOnlyList<PeerRouteStatus> InspectKernel(IReadOnlyCollection<PeerLease> peers)
    {
        var routes = Netlink.GetRoutes().ToLookup(r => r.Destination);
        return peers.Select(p =>
        {
            if (Desire(p, out var reason) is not { } route) return Ignored(p, reason!);
            var drift = new List<string>();
            var actual = CheckRoute(route, routes, drift);
            return Status(p, Describe(route), actual, drift);
        }).ToList();
    }

    protected override void TeardownKernel()
    {
        if (Network is null) return;
        foreach (var r in Netlink.GetRoutes().Where(IsOwnedRoute)) Netlink.DeleteRoute(r);
    }
}
