using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Xunit;
using static Flannel.Actors.Tests.Leases.AuthorizerFixtures;

namespace Flannel.Actors.Tests.Leases;

/// <summary>T3 release decisions as a pure function: own, node-deleted, operator (with and without force).</summary>
public sealed class ReleaseAuthorizerTests
{
    private static readonly Lease OfB = L("10.244.5.0/24", "b", owner: B);

    private static ReleaseAsk Ask(ReleaseKind kind, string from, string originNode, bool force = false, string subnet = "10.244.5.0/24") =>
        new(Cidr(subnet), kind, force, originNode, kind == ReleaseKind.Operator ? "ctl" : "agent", from);

    private static ReleaseDenied Denied(ReleaseVerdict v, bool permanent)
    {
        var d = Assert.IsType<ReleaseDenied>(v);
        Assert.Equal(permanent, d.Permanent);
        return d;
    }

    [Fact]
    public void A_subnet_nobody_holds_is_released_trivially()
    {
        var v = Assert.IsType<ReleaseAllowed>(ReleaseAuthorizer.Decide(View([OfB]), Ask(ReleaseKind.Own, A, "a", subnet: "10.244.6.0/24")));
        Assert.Null(v.Lease);
    }

    [Fact]
    public void An_own_release_is_accepted_only_from_the_registered_owner()
    {
        Assert.Equal(OfB, Assert.IsType<ReleaseAllowed>(ReleaseAuthorizer.Decide(View([OfB]), Ask(ReleaseKind.Own, B, "b"))).Lease);

        // Claiming to be node b does not help: the sender's address decides.
        var d = Denied(ReleaseAuthorizer.Decide(View([OfB]), Ask(ReleaseKind.Own, A, "b")), permanent: true);
        Assert.Equal($"lease 10.244.5.0/24 of node b (owner {B}): an own release from agent on node b ({A}) is refused, only its owner may",
            d.Reason);
    }

    [Fact]
    public void An_operator_release_of_a_live_members_lease_needs_force_and_is_flagged_as_another_nodes()
    {
        var d = Denied(ReleaseAuthorizer.Decide(View([OfB]), Ask(ReleaseKind.Operator, A, "a")), permanent: true);
        Assert.Contains("the owner is a live cluster member; use --force", d.Reason);

        var forced = Assert.IsType<ReleaseAllowed>(ReleaseAuthorizer.Decide(View([OfB]), Ask(ReleaseKind.Operator, A, "a", force: true)));
        Assert.Equal((OfB, true), (forced.Lease, forced.OtherNodes));
    }

    [Fact]
    public void An_operator_release_of_a_gone_members_lease_needs_no_force()
    {
        var v = Assert.IsType<ReleaseAllowed>(ReleaseAuthorizer.Decide(View([OfB], live: [A]), Ask(ReleaseKind.Operator, A, "a")));
        Assert.Equal((OfB, true), (v.Lease, v.OtherNodes));
        var own = L("10.244.1.0/24", "a", owner: A);
        var mine = Assert.IsType<ReleaseAllowed>(ReleaseAuthorizer.Decide(View([own]), Ask(ReleaseKind.Operator, A, "a", force: true, subnet: "10.244.1.0/24")));
        Assert.False(mine.OtherNodes);
    }

    [Fact]
    public void An_operator_release_of_a_lease_without_owner_needs_force()
    {
        var legacy = L("10.244.5.0/24", "b", owner: null);
        var d = Denied(ReleaseAuthorizer.Decide(View([legacy], live: [A]), Ask(ReleaseKind.Operator, A, "a")), permanent: true);
        Assert.Contains("its owner is unknown", d.Reason);
        Assert.IsType<ReleaseAllowed>(ReleaseAuthorizer.Decide(View([legacy], live: [A]), Ask(ReleaseKind.Operator, A, "a", force: true)));
    }

    [Fact]
    public void A_node_deleted_release_needs_Kubernetes_to_agree_the_node_is_gone()
    {
        var ask = Ask(ReleaseKind.NodeDeleted, A, "a");

        Denied(ReleaseAuthorizer.Decide(View([OfB]), ask), permanent: true); // outside Kubernetes mode
        var exists = Denied(ReleaseAuthorizer.Decide(View([OfB], cidrs: Kube(("a", null), ("b", "10.244.5.0/24"))), ask), permanent: true);
        Assert.Contains("node b still exists in Kubernetes", exists.Reason);
        var unsynced = Denied(ReleaseAuthorizer.Decide(View([OfB], cidrs: new KubeNodeCidrAuthority()), ask), permanent: false);
        Assert.Contains("not synced", unsynced.Reason);

        var gone = Assert.IsType<ReleaseAllowed>(ReleaseAuthorizer.Decide(View([OfB], cidrs: Kube(("a", null))), ask));
        Assert.Equal(OfB, gone.Lease);
    }
}
