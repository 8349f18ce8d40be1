using System.Net;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Flannel.Net.Netlink;
using Xunit;

namespace Flannel.E2E.Backends;

public sealed class StaleStateCleanerNetNsTests : IDisposable
{
    private readonly TwoHosts _net = new();

    public void Dispose() => _net.Dispose();

    [Fact]
    public void State_of_another_backend_and_an_old_network_is_removed_and_unrelated_routes_stay()
    {
        var h = _net.Hosts[0];
        // Left by a previous vxlan run (Go flannel style: kernel-chosen protocol) and a host-gw run, plus ours from another network.
        h.Ns.Exec("ip link add flannel.1 type vxlan id 1 local 192.168.90.1 dev eth0 nolearning");
        h.Ns.Exec("ip link set flannel.1 up");
        h.Ns.Exec("ip route add 10.244.7.0/24 via 10.244.7.0 dev flannel.1 onlink");
        h.Ns.Exec("ip neigh add 10.244.7.0 lladdr 0a:58:0a:f4:07:00 dev flannel.1 nud permanent");
        h.Ns.Exec("bridge fdb append 0a:58:0a:f4:07:00 dev flannel.1 dst 192.168.90.7 self permanent");
        h.Ns.Exec("ip route add 10.244.5.0/24 via 192.168.90.5 dev eth0 proto boot");
        h.Ns.Exec("ip route add 10.99.3.0/24 via 192.168.90.3 dev eth0 proto 70");
        h.Ns.Exec("ip route add 10.244.6.0/24 via 192.168.90.6 dev eth0 proto static");

        var removed = h.Thread.Run(() =>
        {
            using var nl = new RtNetlink();
            return new StaleStateCleaner(nl).Clean(BackendConfig.Udp, "flannel0", TwoHosts.Network, h.Iface);
        });

        Assert.Contains("link flannel.1 (vxlan)", removed);
        Assert.Contains("route 10.244.5.0/24 via 192.168.90.5 dev eth0 proto 3", removed);
        Assert.Contains("route 10.99.3.0/24 via 192.168.90.3 dev eth0 proto 70", removed);
        Assert.Equal(3, removed.Count);
        Assert.NotEqual(0, h.Ns.TryExec("ip link show flannel.1").ExitCode);
        var routes = h.Ns.Exec("ip route show");
        Assert.DoesNotContain("10.244.7.0", routes);
        Assert.DoesNotContain("10.244.5.0", routes);
        Assert.DoesNotContain("10.99.3.0", routes);
        Assert.Contains("10.244.6.0/24 via 192.168.90.6 dev eth0 proto static", routes); // not ours, not flannel's pattern
        Assert.Contains("10.244.1.0/24 dev pod0", routes);                                // the local pod subnet
    }

    [Fact]
    public void The_device_about_to_be_used_is_kept()
    {
        var h = _net.Hosts[0];
        h.Ns.Exec("ip link add flannel.1 type vxlan id 1 local 192.168.90.1 dev eth0 nolearning");
        h.Ns.Exec("ip link add flannel.2 type vxlan id 2 local 192.168.90.1 dev eth0 nolearning");
        var removed = h.Thread.Run(() =>
        {
            using var nl = new RtNetlink();
            return new StaleStateCleaner(nl).Clean(BackendConfig.Vxlan, "flannel.1", TwoHosts.Network, h.Iface);
        });
        Assert.Equal(["link flannel.2 (vxlan)"], removed);
        Assert.Equal(0, h.Ns.TryExec("ip link show flannel.1").ExitCode);
    }

    [Fact]
    public void Switching_from_udp_to_vxlan_removes_flannel0_and_its_route_when_the_backend_is_configured()
    {
        var h = _net.Hosts[0];
        h.Ns.Exec("ip tuntap add flannel0 mode tun");
        h.Ns.Exec("ip link set flannel0 up");
        h.Ns.Exec("ip route add 10.244.0.0/16 dev flannel0 proto 70");
        using var backend = h.Thread.Run(() => (VxlanBackend)BackendFactory.Create(new VxlanBackendConfig(), h.Iface));
        backend.Prepare();
        backend.Configure(TwoHosts.Network, h.Lease);
        Assert.Equal(["link flannel0 (tun)"], backend.StaleStateRemoved);
        Assert.NotEqual(0, h.Ns.TryExec("ip link show flannel0").ExitCode);
        Assert.DoesNotContain("flannel0", h.Ns.Exec("ip route show"));
        Assert.Equal(0, h.Ns.TryExec("ip link show flannel.1").ExitCode);
    }
}
