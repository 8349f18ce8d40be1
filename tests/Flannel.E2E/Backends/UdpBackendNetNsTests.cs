using Flannel.Net.Backends;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.E2E.Backends;

public sealed class UdpBackendNetNsTests : IDisposable
{
    private readonly TwoHosts _net = new();
    private readonly List<IBackend> _backends = new();

    public void Dispose()
    {
        foreach (var b in _backends) b.Dispose();
        _net.Dispose();
    }

    private UdpBackend Start(TwoHosts.Host h)
    {
        var b = h.Thread.Run(() => (UdpBackend)BackendFactory.Create(new UdpBackendConfig(), h.Iface,
            new BackendOptions { TunnelOptions = o => o with { Queues = 1 } }));
        _backends.Add(b);
        b.Prepare();
        // The tunnel opens its TUN and sockets on the calling thread: do it inside the host's namespace.
        h.Thread.Run(() => b.Configure(TwoHosts.Network, h.Lease));
        return b;
    }

    [Fact]
    public void Flannel0_is_configured_like_flannel_and_pods_ping_through_the_tunnel()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var b1 = Start(h1);
        var b2 = Start(h2);
        Assert.Equal(1472, b1.Mtu);

        var dev = h1.Ns.Exec("ip addr show flannel0");
        Assert.Contains("mtu 1472", dev);
        Assert.Contains("inet 10.244.1.0/32", dev);
        Assert.Contains("10.244.0.0/16 dev flannel0 proto 70 scope link", h1.Ns.Exec("ip route show"));

        var p1 = new PeerLease(h1.Lease, h1.Iface.PublicIp, "udp", null);
        var p2 = new PeerLease(h2.Lease, h2.Iface.PublicIp, "udp", null);
        Assert.Empty(b1.Reconcile([p1, p2]).Errors);
        Assert.Empty(b2.Reconcile([p1, p2]).Errors);
        Assert.True(TwoHosts.Ping(h1, h2.PodIp), "pod 1 -> pod 2 over the udp tunnel");

        h1.Ns.Exec("ip route del 10.244.0.0/16");
        Assert.Equal(PeerRouteState.Drift, Assert.Single(b1.Inspect([p2])).State);
        var repair = b1.Reconcile([p2]);
        Assert.Equal(["add route 10.244.0.0/16 dev flannel0"], repair.Changes.Select(c => c.Text));
        Assert.True(TwoHosts.Ping(h1, h2.PodIp), "after repair");

        Assert.Equal(PeerRouteState.Ignored, Assert.Single(b1.Inspect([p2 with { BackendType = "vxlan" }])).State);

        h1.Thread.Run(b1.Teardown);
        Assert.NotEqual(0, h1.Ns.TryExec("ip link show flannel0").ExitCode);
        Assert.DoesNotContain("10.244.0.0/16", h1.Ns.Exec("ip route show"));
    }
}
