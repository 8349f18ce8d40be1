using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Net.Config;
using Flannel.Testing;
using Xunit;
using static Flannel.Actors.Tests.Leases.LeaseCluster;

namespace Flannel.Actors.Tests.Leases;

/// <summary>
/// T3 on whole in-process clusters: a member that sends the allocator claims and releases for another node's lease is
/// refused and the victim's lease stays exactly as it was; the legitimate paths (renewal, restarts, node deletion in
/// Kubernetes, operator --force) still work and are logged with their origin.
/// </summary>
public sealed class LeaseAuthorizationClusterTests : TestKit
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);
    private readonly RecordingLoggerFactory _events = new();

    private static LeaseClaim ClaimAs(string node, IPNetwork? required = null, IPNetwork? previous = null, NetConf? conf = null) =>
        new(node, IPAddress.Parse("192.0.2.66"), "vxlan", null, previous, required, conf ?? DefaultConf, LeaseOptions.DefaultTtl);

    private static ClaimRefused Refused(object reply, bool permanent)
    {
        var refused = Assert.IsType<ClaimRefused>(reply);
        Assert.Equal(permanent, refused.Permanent);
        return refused;
    }

    private static async Task VictimUnchanged(LeaseNode reader, Lease victim)
    {
        var table = await MajorityTableAsync(reader);
        Assert.Equal(victim, table[victim.Subnet]);
        Assert.DoesNotContain(table.Values, l => l.Node == victim.Node && !l.Subnet.Equals(victim.Subnet));
    }

    [Fact]
    public async Task Leases_record_the_claimants_member_address_through_the_singleton_proxy()
    {
        await using var cluster = new LeaseCluster();
        await cluster.StartAsync(3);

        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));

        // Node 0 hosts the allocator (a local sender); nodes 1 and 2 reach it through the proxy, which must forward
        // their SubnetLeaseActor as the sender rather than itself.
        Assert.Equal(cluster.Nodes.Select(n => n.Address.ToString()), leases.Select(l => l.Owner));
        var probeClaim = Assert.IsType<ClaimGranted>(await AllocatorAsk(cluster[2], new ClaimRequest(1, ClaimAs("probe"))));
        Assert.Equal(cluster[2].Address.ToString(), probeClaim.Lease.Owner);
    }

    [Fact]
    public async Task A_member_cannot_take_renew_release_or_reconfigure_another_live_nodes_lease()
    {
        await using var cluster = new LeaseCluster(loggers: _events);
        await cluster.StartAsync(3);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));
        var victim = leases[1];
        var attacker = cluster[2];
        var from = attacker.Address.ToString();

        // The attack: an outsider "requiring" the victim's subnet (outside Kubernetes no RequiredSubnet counts).
        var required = Refused(await AllocatorAsk(attacker, new ClaimRequest(1, ClaimAs("intruder", required: victim.Subnet))), true);
        Assert.Contains("only honoured in Kubernetes mode", required.Reason);
        // Asking for it as the previous subnet just yields another one.
        var previous = Assert.IsType<ClaimGranted>(await AllocatorAsk(attacker, new ClaimRequest(2, ClaimAs("intruder", previous: victim.Subnet))));
        Assert.NotEqual(victim.Subnet, previous.Lease.Subnet);
        // Renewing (claiming) as the victim from another member.
        var renew = Refused(await AllocatorAsk(attacker, new ClaimRequest(3, ClaimAs(victim.Node, previous: victim.Subnet))), true);
        Assert.Equal($"node {victim.Node} is registered by the live member {cluster[1].Address} (lease {victim.Subnet}); " +
                     $"a claim for it from {from} is refused", renew.Reason);
        // A claim carrying another Network.
        var otherNet = NetConf.Parse("""{"Network":"10.10.0.0/16"}""");
        var network = Refused(await AllocatorAsk(attacker, new ClaimRequest(4, ClaimAs(attacker.Name, conf: otherNet))), true);
        Assert.Contains("Network 10.10.0.0/16 (cluster: 10.244.0.0/16)", network.Reason);
        // Releasing it as its own lease, and as an operator without --force.
        var own = Assert.IsType<ReleaseRefused>(await AllocatorAsk(attacker,
            new ReleaseRequest(5, victim.Subnet, ReleaseKind.Own, Force: false, victim.Node, "agent")));
        Assert.Contains("only its owner may", own.Reason);
        var op = Assert.IsType<LeaseReleaseFailed>(await Ask(attacker, new ReleaseLease(victim.Subnet, ReleaseKind.Operator)));
        Assert.Contains("the owner is a live cluster member; use --force", op.Reason);

        await VictimUnchanged(cluster[0], victim);
        Assert.Equal(victim, ((OwnLease)await Ask(cluster[1], GetOwnLease.Instance)).Lease);
        Assert.Contains(_events.WithId(4041), e => e.Field("Node") == victim.Node && e.Field("From") == from
                                                   && e.Field("Owner") == cluster[1].Address.ToString());
        Assert.Equal(2, _events.WithId(4040).Count(e => e.Field("From") == from)); // RequiredSubnet, Network
        Assert.Equal(2, _events.WithId(4044).Count);
    }

    [Fact]
    public async Task A_node_restarted_at_the_same_address_keeps_its_subnet_without_rebinding()
    {
        await using var cluster = new LeaseCluster(loggers: _events);
        await cluster.StartAsync(2);
        var port = FreePort();
        var node = cluster.Start(2, cluster[0].Address, port: port);
        await cluster.WaitUpAsync(3, Converge);
        var before = await AcquireAsync(node);

        // A crash: the member is not removed first, the new incarnation (same host:port, new uid) replaces it.
        await node.System.Terminate();
        var again = cluster.Start(2, cluster[0].Address, port: port);
        await cluster.WaitUpAsync(3, TimeSpan.FromSeconds(30));
        var after = await AcquireAsync(again);

        Assert.Equal((before.Subnet, before.Owner), (after.Subnet, after.Owner));
        Assert.True(after.Version > before.Version);
        Assert.Empty(_events.WithId(4042));
        Assert.Empty(_events.WithId(4041));
    }

    [Fact]
    public async Task A_node_restarted_at_a_new_address_rebinds_once_the_old_member_is_gone()
    {
        await using var cluster = new LeaseCluster(loggers: _events);
        await cluster.StartAsync(3);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));
        var oldAddress = cluster[2].Address.ToString();

        await StopAsync(cluster[2]);
        await cluster.WaitUpAsync(2, Converge);
        var restarted = cluster.Start(2, cluster[0].Address);
        await cluster.WaitUpAsync(3, Converge);
        var again = await AcquireAsync(restarted);

        Assert.Equal(leases[2].Subnet, again.Subnet);
        Assert.Equal(restarted.Address.ToString(), again.Owner);
        var rebound = Assert.Single(_events.WithId(4042));
        Assert.Equal(("node-2", oldAddress, restarted.Address.ToString()),
            (rebound.Field("Node"), rebound.Field("OldOwner"), rebound.Field("NewOwner")));
    }

    [Fact]
    public async Task An_operator_force_release_of_a_live_nodes_lease_is_done_and_logged_with_its_origin()
    {
        await using var cluster = new LeaseCluster(loggers: _events);
        await cluster.StartAsync(3);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));

        var reply = await Ask(cluster[1], new ReleaseLease(leases[2].Subnet, ReleaseKind.Operator, Force: true));

        Assert.Equal(new LeaseReleased(leases[2].Subnet), reply);
        var logged = Assert.Single(_events.WithId(4045));
        Assert.Equal((leases[2].Subnet.ToString(), "node-2", cluster[2].Address.ToString(), "True"),
            (logged.Field("Subnet"), logged.Field("Holder"), logged.Field("Owner"), logged.Field("Force")));
        Assert.Equal($"ctl on node node-1 ({cluster[1].Address})", logged.Field("Origin"));
    }

    [Fact]
    public async Task In_Kubernetes_an_outsider_or_a_member_requiring_another_nodes_podCIDR_is_refused()
    {
        static IPNetwork PodCidr(int i) => IPNetwork.Parse($"10.244.{i + 1}.0/24");
        var cidrs = new KubeNodeCidrAuthority();
        cidrs.Replace(Enumerable.Range(0, 3).Select(i => new KubeNodeInfo(NodeName(i), PodCidr(i), new Dictionary<string, string>(), null)));
        await using var cluster = new LeaseCluster(nodeCidrs: cidrs, loggers: _events);
        await cluster.StartAsync(3, i => PodCidr(i));
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));
        Assert.Equal(Enumerable.Range(0, 3).Select(PodCidr), leases.Select(l => l.Subnet));
        var victim = leases[1];
        var attacker = cluster[2];

        // The reported attack: a node Kubernetes does not know claims host 1's podCIDR. It waits (the API may lag).
        var outsider = Refused(await AllocatorAsk(attacker, new ClaimRequest(1, ClaimAs("intruder", required: victim.Subnet))), false);
        Assert.Equal("node intruder is not in the Kubernetes node list (yet)", outsider.Reason);
        // A member requiring another node's podCIDR as itself.
        var member = Refused(await AllocatorAsk(attacker, new ClaimRequest(2, ClaimAs(attacker.Name, required: victim.Subnet))), true);
        Assert.Equal($"claim of node node-2 requires subnet {victim.Subnet}, but its podCIDR in Kubernetes is {PodCidr(2)}", member.Reason);
        // Without a podCIDR at all.
        Refused(await AllocatorAsk(attacker, new ClaimRequest(3, ClaimAs(attacker.Name))), true);

        await VictimUnchanged(cluster[0], victim);
        await VictimUnchanged(cluster[0], leases[2]);
    }

    [Fact]
    public async Task In_Kubernetes_a_node_deleted_release_waits_until_the_API_has_no_such_node()
    {
        static IPNetwork PodCidr(int i) => IPNetwork.Parse($"10.244.{i + 1}.0/24");
        var nodes = Enumerable.Range(0, 3).Select(i => new KubeNodeInfo(NodeName(i), PodCidr(i), new Dictionary<string, string>(), null)).ToList();
        var cidrs = new KubeNodeCidrAuthority();
        cidrs.Replace(nodes);
        await using var cluster = new LeaseCluster(nodeCidrs: cidrs, loggers: _events);
        await cluster.StartAsync(3, i => PodCidr(i));
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));

        var early = Assert.IsType<LeaseReleaseFailed>(await Ask(cluster[1], new ReleaseLease(leases[2].Subnet, ReleaseKind.NodeDeleted)));
        Assert.Contains("node node-2 still exists in Kubernetes", early.Reason);
        await VictimUnchanged(cluster[0], leases[2]);

        cidrs.Remove("node-2");
        await StopAsync(cluster[2]); // its agent stops with its node; otherwise it would claim its podCIDR again
        await cluster.WaitUpAsync(2, Converge);
        var done = await Ask(cluster[1], new ReleaseLease(leases[2].Subnet, ReleaseKind.NodeDeleted));

        Assert.Equal(new LeaseReleased(leases[2].Subnet), done);
        Assert.DoesNotContain(leases[2].Subnet, (await MajorityTableAsync(cluster[0])).Keys);
    }
}
