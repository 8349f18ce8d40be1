using System.Net;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.E2E.Backends;

public sealed class HostGwBackendNetNsTests : IDisposable
{
    private readonly TwoHosts _net = new();
    private readonly List<IBackend> _backends = new();

    public void Dispose()
    {
        foreach (var b in _backends) b.Dispose();
        _net.Dispose();
    }

    private IBackend Start(TwoHosts.Host h)
    {
        var b = h.Thread.Run(() => BackendFactory.Create(new HostGwBackendConfig(), h.Iface));
        _backends.Add(b);
        b.Prepare();
        b.Configure(TwoHosts.Network, h.Lease);
        return b;
    }

    [Fact]
    public void Pods_ping_across_host_gw_routes_and_drift_is_repaired()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var b1 = Start(h1);
        var b2 = Start(h2);
        Assert.Equal(1500, b1.Mtu);
        Assert.Null(b1.LeaseData);
        var p1 = new PeerLease(h1.Lease, h1.Iface.PublicIp, "host-gw", null);
        var p2 = new PeerLease(h2.Lease, h2.Iface.PublicIp, "host-gw", null);

        Assert.Equal(1, b1.Reconcile([p2]).Added);
        Assert.Equal(1, b2.Reconcile([p1]).Added);
        Assert.Contains("10.244.2.0/24 via 192.168.90.2 dev eth0 proto 70", h1.Ns.Exec("ip route show"));
        Assert.True(TwoHosts.Ping(h1, h2.PodIp), "pod 1 -> pod 2 via host-gw");

        // Someone points the route elsewhere: reconcile puts it back (fixed, not added).
        h1.Ns.Exec("ip route replace 10.244.2.0/24 via 192.168.90.77 dev eth0");
        Assert.Equal(PeerRouteState.Drift, Assert.Single(b1.Inspect([p2])).State);
        var repair = b1.Reconcile([p2]);
        Assert.Equal(1, repair.Fixed);
        Assert.Contains("10.244.2.0/24 via 192.168.90.2 dev eth0 proto 70", h1.Ns.Exec("ip route show"));
        Assert.True(b1.Reconcile([p2]).InSync);

        b1.Teardown();
        Assert.DoesNotContain("10.244.2.0/24", h1.Ns.Exec("ip route show"));
    }

    [Fact]
    public void Leases_for_the_default_route_metadata_or_services_never_touch_the_kernel_outside_network()
    {
        // Issue #11 T4: a member writes leases for 0.0.0.0/0, 169.254.169.254/32 and a service range. Even handed straight
        // to the backend they must not replace the host's default route or add routes outside Network, and our own
        // protocol's routes outside Network are not deleted either.
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var b1 = Start(h1);
        h1.Ns.Exec("ip route replace default via 192.168.90.254 dev eth0");
        h1.Ns.Exec("ip route add 169.254.169.254/32 via 192.168.90.253 dev eth0");
        h1.Ns.Exec("ip route add 10.96.0.0/12 via 192.168.90.252 dev eth0 proto 70");
        var evil = new[] { "0.0.0.0/0", "169.254.169.254/32", "10.96.0.0/12" }
            .Select(s => new PeerLease(IPNetwork.Parse(s), h2.Iface.PublicIp, "host-gw", null)).ToList();
        var before = h1.Ns.Exec("ip route show");

        var report = b1.Reconcile([.. evil, new PeerLease(h2.Lease, h2.Iface.PublicIp, "host-gw", null)]);

        Assert.Equal((1, 0, 0), (report.Added, report.Fixed, report.Removed));
        var after = h1.Ns.Exec("ip route show");
        Assert.Contains("default via 192.168.90.254 dev eth0", after);
        Assert.Contains("169.254.169.254 via 192.168.90.253 dev eth0", after);
        Assert.Contains("10.96.0.0/12 via 192.168.90.252 dev eth0 proto 70", after);
        Assert.Equal(before.Split('\n').Length + 1, after.Split('\n').Length);
        Assert.All(b1.Inspect(evil), s => Assert.Equal("not programmed: refused (outside_network)", s.Desired));
    }

    [Fact]
    public void Prepare_refuses_a_public_ip_that_is_not_on_the_interface()
    {
        var h1 = _net.Hosts[0];
        var nat = h1 with { Iface = h1.Iface with { PublicIp = IPAddress.Parse("203.0.113.9") } };
        using var b = nat.Thread.Run(() => BackendFactory.Create(new HostGwBackendConfig(), nat.Iface));
        var e = Assert.Throws<InvalidOperationException>(b.Prepare);
        Assert.Contains("public IP 203.0.113.9", e.Message);

        var wrong = h1 with { Iface = h1.Iface with { Address = IPAddress.Parse("192.168.90.9"), PublicIp = IPAddress.Parse("192.168.90.9") } };
        using var b2 = wrong.Thread.Run(() => BackendFactory.Create(new HostGwBackendConfig(), wrong.Iface));
        var e2 = Assert.Throws<InvalidOperationException>(b2.Prepare);
        Assert.Equal("host-gw: public IP 192.168.90.9 is not an address of interface eth0 (it has 192.168.90.1/24)", e2.Message);
    }
}
