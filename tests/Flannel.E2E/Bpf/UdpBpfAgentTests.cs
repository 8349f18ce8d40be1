using Flannel.E2E.Agent;
using Flannel.Demo;
using Flannel.Net.Bpf;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Bpf;

/// <summary>
/// flanneld with the udp backend on the TC-BPF path (the default, --udp-datapath auto): the choice is logged, the live
/// switch udp -> vxlan -> udp detaches and re-attaches the programs, and neither the switch away nor a stopped or
/// killed agent leaves anything attached, pinned or loaded.
/// </summary>
[Collection(AgentE2ECollection.Name)]
public sealed class UdpBpfAgentTests(UdpBpfCluster cluster, ITestOutputHelper output) : IClassFixture<UdpBpfCluster>
{
    private ClusterTopology Topology => cluster.Topology;
    private IReadOnlyList<Pod> Pods => cluster.Pods;

    /// <summary>Programs on the host's TCX hooks: (flannel0 egress, eth0 ingress); -1 when the device is missing.</summary>
    private static (int Egress, int Ingress) Attached(TopologyHost h)
    {
        var tun = Netns.Exec(h.Namespace, "cat", ["/sys/class/net/flannel0/ifindex"]);
        var eth = Netns.Exec(h.Namespace, "cat", ["/sys/class/net/eth0/ifindex"]);
        using var thread = new NamespaceThread(h.Namespace);
        return thread.Run(() => (
            tun.ExitCode == 0 ? BpfSyscall.QueryTcx(int.Parse(tun.Stdout.Trim()), BpfSyscall.AttachTcxEgress) : -1,
            BpfSyscall.QueryTcx(int.Parse(eth.Stdout.Trim()), BpfSyscall.AttachTcxIngress)));
    }

    [Fact]
    public async Task Bpf_path_runs_by_default_survives_udp_vxlan_udp_and_nothing_stays_loaded_after_switch_stop_or_kill()
    {
        Assert.All(Topology.Hosts, h => Assert.Contains("udp data path bpf", File.ReadAllText(h.LogFile), StringComparison.Ordinal));
        Assert.All(Topology.Hosts, h => Assert.Equal((1, 1), Attached(h)));
        var udpObjects = Topology.Hosts.Select(h => BpfFootprint.Of(h.Namespace)).ToList();
        Assert.All(udpObjects, o => o.AssertIsTheUdpPath());
        Assert.True(ClusterTopology.Ping(Pods[0], Pods[1]) && ClusterTopology.Ping(Pods[1], Pods[0]));

        File.WriteAllText(Topology.NetConfPath, """{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""");
        await BackendWait.UntilAllOnAsync(Topology, "vxlan", TimeSpan.FromSeconds(30));
        Assert.All(Topology.Hosts, h => Assert.Equal((-1, 0), Attached(h)));
        // Switched away: the programs and maps of the udp path are gone from the kernel on every host, not only detached.
        foreach (var (o, h) in udpObjects.Zip(Topology.Hosts)) await o.AssertGoneAsync($"{h.NodeName} after udp -> vxlan");
        Assert.True(ClusterTopology.Ping(Pods[0], Pods[1]));

        var took = DateTime.UtcNow;
        File.WriteAllText(Topology.NetConfPath, """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""");
        await BackendWait.UntilAllOnAsync(Topology, "udp", TimeSpan.FromSeconds(30));
        output.WriteLine($"vxlan -> udp (bpf) in {(DateTime.UtcNow - took).TotalSeconds:0.0} s");
        Assert.All(Topology.Hosts, h => Assert.Equal((1, 1), Attached(h)));
        Assert.True(ClusterTopology.Ping(Pods[0], Pods[1]) && ClusterTopology.Ping(Pods[1], Pods[0]));
        var (sent, received, bytes) = await PodTcp.TransferAsync(Pods[1], Pods[0], 8 << 20, TimeSpan.FromSeconds(60));
        Assert.Equal(sent, received);
        Assert.Equal(8 << 20, bytes);

        var host = Topology.Hosts[0];
        var objects = BpfFootprint.Of(host.Namespace);
        objects.AssertIsTheUdpPath();
        Assert.Empty(objects.Programs.Intersect(udpObjects[0].Programs));
        Topology.StopAgent(host);
        Assert.Equal(0, Attached(host).Ingress);
        await objects.AssertGoneAsync($"{host.NodeName} after its agent stopped");

        // A crash (SIGKILL, no clean-up code runs): the kernel still frees everything, since nothing is pinned and the
        // links, programs and maps live only as long as the process's descriptors.
        var crashed = Topology.Hosts[1];
        var crashedObjects = BpfFootprint.Of(crashed.Namespace);
        crashedObjects.AssertIsTheUdpPath();
        Topology.KillAgent(crashed);
        Assert.Equal(0, Attached(crashed).Ingress);
        await crashedObjects.AssertGoneAsync($"{crashed.NodeName} after its agent was killed");
    }
}

/// <summary>A udp cluster of its own: the test switches its backend and stops an agent.</summary>
public sealed class UdpBpfCluster() : AgentCluster("udp", name: "udp-bpf");
