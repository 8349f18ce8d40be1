using System.Net;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Flannel.Net.Netlink;
using Xunit;

namespace Flannel.E2E.Backends;

public sealed class VxlanBackendNetNsTests : IDisposable
{
    private readonly TwoHosts _net = new();
    private readonly List<IBackend> _backends = new();

    public void Dispose()
    {
        foreach (var b in _backends) b.Dispose();
        _net.Dispose();
    }

    private VxlanBackend Start(TwoHosts.Host h, VxlanBackendConfig? config = null, MacAddress? mac = null)
    {
        var b = h.Thread.Run(() => (VxlanBackend)BackendFactory.Create(config ?? new VxlanBackendConfig(), h.Iface,
            new BackendOptions { VtepMac = mac }));
        _backends.Add(b);
        b.Prepare();
        b.Configure(TwoHosts.Network, h.Lease);
        return b;
    }

    private static PeerLease Peer(TwoHosts.Host h, IBackend b) => new(h.Lease, h.Iface.PublicIp, b.Type, b.LeaseData);

    [Fact]
    public void Pods_ping_across_vxlan_and_reconcile_repairs_and_removes()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var b1 = Start(h1, mac: MacAddress.Parse("0a:58:0a:f4:01:01"));
        var b2 = Start(h2);

        Assert.Equal(1450, b1.Mtu);
        Assert.Equal("{\"VNI\":1,\"VtepMAC\":\"0a:58:0a:f4:01:01\"}", b1.LeaseData);
        var dev = h1.Ns.Exec("ip -d addr show flannel.1");
        Assert.Contains("vxlan id 1 local 192.168.90.1 dev eth0", dev);
        Assert.Contains("nolearning", dev);
        Assert.Contains("mtu 1450", dev);
        Assert.Contains("inet 10.244.1.0/32", dev);

        var r1 = b1.Reconcile([Peer(h2, b2)]);
        var r2 = b2.Reconcile([Peer(h1, b1), Peer(h2, b2)]); // own lease in the list is skipped
        Assert.Equal(3, r1.Added);
        Assert.Empty(r1.Errors);
        Assert.Equal(3, r2.Added);
        Assert.Contains("10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto 70 onlink", h1.Ns.Exec("ip route show"));
        Assert.Contains($"10.244.2.0 lladdr {b2.VtepMac} PERMANENT", h1.Ns.Exec("ip neigh show dev flannel.1"));
        Assert.Contains($"{b2.VtepMac} dst 192.168.90.2 self permanent", h1.Ns.Exec("bridge fdb show dev flannel.1"));

        Assert.True(TwoHosts.Ping(h1, h2.PodIp), "pod 1 -> pod 2 over vxlan");
        Assert.True(TwoHosts.Ping(h2, h1.PodIp), "pod 2 -> pod 1 over vxlan");

        Assert.True(b1.Reconcile([Peer(h2, b2)]).InSync);
        Assert.Equal(PeerRouteState.InSync, Assert.Single(b1.Inspect([Peer(h2, b2)])).State);

        // A route deleted by hand is drift: inspected, then repaired and reported.
        h1.Ns.Exec("ip route del 10.244.2.0/24");
        var drift = Assert.Single(b1.Inspect([Peer(h2, b2)]));
        Assert.Equal(PeerRouteState.Drift, drift.State);
        Assert.Contains("route missing", drift.Drift);
        var repair = b1.Reconcile([Peer(h2, b2)]);
        Assert.Equal(1, repair.Added);
        Assert.Equal(["add route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink"], repair.Changes.Select(c => c.Text));
        Assert.True(TwoHosts.Ping(h1, h2.PodIp), "after repair");

        // The peer's VTEP MAC changed: the neighbour is fixed, the old FDB entry goes.
        var moved = Peer(h2, b2) with { BackendData = "{\"VNI\":1,\"VtepMAC\":\"0a:58:0a:f4:02:99\"}" };
        var macChange = b1.Reconcile([moved]);
        Assert.Equal(1, macChange.Fixed);
        Assert.Equal(1, macChange.Removed);
        var fdb = h1.Ns.Exec("bridge fdb show dev flannel.1");
        Assert.DoesNotContain(b2.VtepMac.ToString(), fdb);
        Assert.Contains("0a:58:0a:f4:02:99 dst 192.168.90.2", fdb);

        // Peers of another backend type and garbage backend data are ignored, not fatal.
        var statuses = b1.Inspect([moved with { BackendType = "udp" }, moved with { BackendData = "{\"VtepMAC\":7}" }]);
        Assert.All(statuses, s => Assert.Equal(PeerRouteState.Ignored, s.State));

        // The peer leaves: route, neighbour and FDB entry all go.
        var gone = b1.Reconcile([]);
        Assert.Equal(3, gone.Removed);
        Assert.DoesNotContain("10.244.2.0", h1.Ns.Exec("ip route show"));
        Assert.DoesNotContain("10.244.2.0", h1.Ns.Exec("ip neigh show dev flannel.1"));
        Assert.DoesNotContain("192.168.90.2", h1.Ns.Exec("bridge fdb show dev flannel.1"));

        b1.Teardown();
        Assert.NotEqual(0, h1.Ns.TryExec("ip link show flannel.1").ExitCode);
    }

    [Fact]
    public void Restart_keeps_the_device_and_its_mac()
    {
        var h1 = _net.Hosts[0];
        var first = Start(h1);
        var mac = first.VtepMac;
        first.Dispose();
        var second = Start(h1);
        Assert.Equal(mac, second.VtepMac);
        Assert.Contains($"link/ether {mac}", h1.Ns.Exec("ip link show flannel.1"));
    }

    [Fact]
    public void Direct_routing_uses_the_public_ip_for_peers_on_the_same_subnet()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var cfg = new VxlanBackendConfig(DirectRouting: true);
        var b1 = Start(h1, cfg);
        var b2 = Start(h2, cfg);
        Assert.Equal(1, b1.Reconcile([Peer(h2, b2)]).Added);
        b2.Reconcile([Peer(h1, b1)]);
        Assert.Contains("10.244.2.0/24 via 192.168.90.2 dev eth0 proto 70", h1.Ns.Exec("ip route show"));
        Assert.True(TwoHosts.Ping(h1, h2.PodIp), "direct route");
    }

    [Fact]
    public void A_peer_overlapping_our_lease_is_refused_before_the_kernel_and_the_others_are_still_programmed()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var b1 = Start(h1);
        var b2 = Start(h2);
        // A lease overlapping our own. Before issue #11 it reached the kernel (which refused its onlink route with EINVAL);
        // now the backend refuses it itself and reports it as not programmed.
        var bad = new PeerLease(IPNetwork.Parse("10.244.1.0/25"), IPAddress.Parse("192.168.90.3"), "vxlan",
            "{\"VNI\":1,\"VtepMAC\":\"0a:58:0a:f4:01:80\"}");
        var report = b1.Reconcile([bad, Peer(h2, b2)]);
        Assert.Empty(report.Errors);
        var routes = h1.Ns.Exec("ip route show");
        Assert.DoesNotContain("10.244.1.0/25", routes);
        Assert.Contains("10.244.2.0/24 via 10.244.2.0 dev flannel.1 proto 70 onlink", routes);
        var status = b1.Inspect([bad]).Single();
        Assert.Equal((PeerRouteState.Ignored, "not programmed: refused (overlaps_own_lease)"), (status.State, status.Desired));
        b2.Reconcile([Peer(h1, b1)]);
        Assert.True(TwoHosts.Ping(h1, h2.PodIp), "the good peer works despite the bad one");
    }
}
