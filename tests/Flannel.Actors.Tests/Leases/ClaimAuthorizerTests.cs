using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Net.Config;
using Xunit;
using static Flannel.Actors.Tests.Leases.AuthorizerFixtures;

namespace Flannel.Actors.Tests.Leases;

/// <summary>T3 claim decisions as a pure function: accepted net-conf, node binding, podCIDR authority, table cap.</summary>
public sealed class ClaimAuthorizerTests
{
    private static readonly ClaimAuthorizer Authorizer = new(new SubnetAllocator(new Random(1)));

    private static ClaimGrant Granted(ClaimVerdict v) => Assert.IsType<ClaimGrant>(v);

    private static ClaimDenial Denied(ClaimVerdict v, ClaimDenialKind kind, bool permanent)
    {
        var d = Assert.IsType<ClaimDenial>(v);
        Assert.Equal((kind, permanent), (d.Kind, d.Permanent));
        return d;
    }

    [Fact]
    public void A_claim_carrying_another_network_is_refused_permanently_naming_both_values()
    {
        var other = NetConf.Parse("""{"Network":"10.10.0.0/16","SubnetLen":25}""");

        var d = Denied(Authorizer.Decide(View([]), Claim("a", conf: other), A), ClaimDenialKind.Unauthorized, permanent: true);

        Assert.Equal("claim of node a does not match the cluster's accepted net-conf: Network 10.10.0.0/16 (cluster: 10.244.0.0/16), " +
                     "SubnetLen 25 (cluster: 24), SubnetMin 10.10.0.128 (cluster: 10.244.1.0), SubnetMax 10.10.255.128 (cluster: 10.244.255.0)",
            d.Reason);
    }

    [Fact]
    public void The_subnet_comes_from_the_accepted_range_not_the_claims()
    {
        // Same Network, so the claim passes; its own range would allow only 10.244.200.0, the cluster's only 10.244.100.0.
        var accepted = NetConf.Parse("""{"Network":"10.244.0.0/16","SubnetMin":"10.244.100.0","SubnetMax":"10.244.100.0"}""");
        var claimed = accepted with { SubnetMin = Cidr("10.244.200.0/24").BaseAddress, SubnetMax = Cidr("10.244.200.0/24").BaseAddress };

        Denied(Authorizer.Decide(View([], accepted: accepted), Claim("a", conf: claimed), A), ClaimDenialKind.Unauthorized, true);
        var g = Granted(Authorizer.Decide(View([], accepted: accepted), Claim("a", conf: accepted), A));
        Assert.Equal(Cidr("10.244.100.0/24"), g.Lease.Subnet);
        Assert.Equal(A, g.Lease.Owner);
    }

    [Fact]
    public void A_claim_for_a_node_registered_by_another_live_member_is_refused()
    {
        var table = new[] { L("10.244.5.0/24", "b", owner: B, version: 4) };

        var d = Denied(Authorizer.Decide(View(table), Claim("b"), A), ClaimDenialKind.NodeBound, permanent: true);

        Assert.Equal(B, d.Owner);
        Assert.Equal($"node b is registered by the live member {B} (lease 10.244.5.0/24); a claim for it from {A} is refused", d.Reason);
    }

    [Fact]
    public void The_registered_owner_renews_its_own_lease()
    {
        var table = new[] { L("10.244.5.0/24", "b", owner: B, version: 4) };

        var g = Granted(Authorizer.Decide(View(table), Claim("b"), B));

        Assert.Equal((Cidr("10.244.5.0/24"), 5L, B, "own lease"), (g.Lease.Subnet, g.Lease.Version, g.Lease.Owner, g.How));
        Assert.Null(g.ReboundFrom);
    }

    [Fact]
    public void A_node_restarted_at_another_address_rebinds_once_the_old_member_is_gone()
    {
        var table = new[] { L("10.244.5.0/24", "b", owner: B) };

        var g = Granted(Authorizer.Decide(View(table, live: [A, C]), Claim("b"), C));

        Assert.Equal((Cidr("10.244.5.0/24"), C), (g.Lease.Subnet, g.Lease.Owner));
        Assert.Equal(B, g.ReboundFrom);
    }

    [Fact]
    public void A_lease_without_owner_from_an_older_flanneld_is_bound_to_its_next_claimant()
    {
        var g = Granted(Authorizer.Decide(View([L("10.244.5.0/24", "b", owner: null)]), Claim("b"), B));
        Assert.Equal(B, g.Lease.Owner);
        Assert.Equal("(none)", g.ReboundFrom);
    }

    [Fact]
    public void Outside_Kubernetes_a_required_subnet_is_refused_and_the_holders_lease_is_not_touched()
    {
        var table = new[] { L("10.244.5.0/24", "b", owner: B) };

        var d = Denied(Authorizer.Decide(View(table), Claim("intruder", required: Cidr("10.244.5.0/24")), A),
            ClaimDenialKind.Unauthorized, permanent: true);

        Assert.Equal("claim of node intruder requires subnet 10.244.5.0/24, but a required subnet is only honoured in Kubernetes mode " +
                     "(the node's podCIDR)", d.Reason);
    }

    [Fact]
    public void Outside_Kubernetes_a_previous_subnet_held_by_another_node_is_not_taken()
    {
        var table = new[] { L("10.244.5.0/24", "b", owner: B) };
        var g = Granted(Authorizer.Decide(View(table), Claim("intruder", previous: Cidr("10.244.5.0/24")), A));
        Assert.NotEqual(Cidr("10.244.5.0/24"), g.Lease.Subnet);
        Assert.DoesNotContain(Cidr("10.244.5.0/24"), g.Removed);
    }

    [Fact]
    public void In_Kubernetes_a_claim_without_podCIDR_is_refused()
    {
        var d = Denied(Authorizer.Decide(View([], cidrs: Kube(("a", "10.244.1.0/24"))), Claim("a"), A), ClaimDenialKind.Unauthorized, true);
        Assert.Equal("claim of node a carries no podCIDR: in Kubernetes mode a node's lease is its podCIDR", d.Reason);
    }

    [Fact]
    public void In_Kubernetes_the_required_subnet_must_be_the_nodes_podCIDR_from_the_API()
    {
        var cidrs = Kube(("a", "10.244.1.0/24"), ("b", "10.244.5.0/24"));
        var table = new[] { L("10.244.5.0/24", "b", owner: B) };

        var d = Denied(Authorizer.Decide(View(table, cidrs: cidrs), Claim("a", required: Cidr("10.244.5.0/24")), A),
            ClaimDenialKind.Unauthorized, permanent: true);

        Assert.Equal("claim of node a requires subnet 10.244.5.0/24, but its podCIDR in Kubernetes is 10.244.1.0/24", d.Reason);
        var g = Granted(Authorizer.Decide(View(table, cidrs: cidrs), Claim("a", required: Cidr("10.244.1.0/24")), A));
        Assert.Equal((Cidr("10.244.1.0/24"), "podCIDR"), (g.Lease.Subnet, g.How));
    }

    [Fact]
    public void In_Kubernetes_an_unknown_or_missing_node_or_podCIDR_is_a_transient_refusal()
    {
        var claim = Claim("a", required: Cidr("10.244.1.0/24"));

        var unsynced = Denied(Authorizer.Decide(View([], cidrs: new KubeNodeCidrAuthority()), claim, A), ClaimDenialKind.Pending, false);
        Assert.Contains("not synced", unsynced.Reason);
        var missing = Denied(Authorizer.Decide(View([], cidrs: Kube(("b", "10.244.5.0/24"))), claim, A), ClaimDenialKind.Pending, false);
        Assert.Equal("node a is not in the Kubernetes node list (yet)", missing.Reason);
        var noCidr = Denied(Authorizer.Decide(View([], cidrs: Kube(("a", null))), claim, A), ClaimDenialKind.Pending, false);
        Assert.Equal("node a has no podCIDR in Kubernetes yet", noCidr.Reason);
    }

    [Fact]
    public void In_Kubernetes_a_podCIDR_never_takes_a_live_lease_the_API_confirms()
    {
        // The API itself is inconsistent (two nodes, one podCIDR): the holder keeps it and the claim waits.
        var cidrs = Kube(("a", "10.244.5.0/24"), ("b", "10.244.5.0/24"));
        var table = new[] { L("10.244.5.0/24", "b", owner: B) };

        var d = Denied(Authorizer.Decide(View(table, cidrs: cidrs), Claim("a", required: Cidr("10.244.5.0/24")), A),
            ClaimDenialKind.Unauthorized, permanent: false);

        Assert.Contains("overlaps the unexpired lease 10.244.5.0/24 of node b", d.Reason);
    }

    [Fact]
    public void In_Kubernetes_a_holder_whose_node_is_unknown_blocks_transiently()
    {
        var cidrs = new KubeNodeCidrAuthority();
        cidrs.Set(KubeNode("a", "10.244.5.0/24")); // seen, but the list is not complete yet
        var table = new[] { L("10.244.5.0/24", "b", owner: B) };

        var d = Denied(Authorizer.Decide(View(table, cidrs: cidrs), Claim("a", required: Cidr("10.244.5.0/24")), A),
            ClaimDenialKind.Pending, permanent: false);

        Assert.Contains("of node b, whose Kubernetes node is not known yet", d.Reason);
    }

    [Theory]
    [InlineData(null, "node b no longer exists in Kubernetes")]
    [InlineData("10.244.9.0/24", "node b has podCIDR 10.244.9.0/24 in Kubernetes, not 10.244.5.0/24")]
    public void In_Kubernetes_a_stale_lease_of_a_deleted_or_renumbered_node_is_evicted_for_the_podCIDR(string? bPodCidr, string why)
    {
        var cidrs = bPodCidr is null ? Kube(("a", "10.244.5.0/24")) : Kube(("a", "10.244.5.0/24"), ("b", bPodCidr));
        var stale = L("10.244.5.0/24", "b", owner: B, version: 6);

        var g = Granted(Authorizer.Decide(View([stale], cidrs: cidrs), Claim("a", required: Cidr("10.244.5.0/24")), A));

        Assert.Equal((Cidr("10.244.5.0/24"), "a", 7L), (g.Lease.Subnet, g.Lease.Node, g.Lease.Version));
        var evicted = Assert.Single(g.Evicted);
        Assert.Equal((stale, why), (evicted.Lease, evicted.Why));
        Assert.Equal([Cidr("10.244.5.0/24")], g.Removed);
    }

    [Fact]
    public void A_claim_that_would_grow_the_table_beyond_its_cap_is_refused_naming_the_cap_but_renewals_go_on()
    {
        var table = new[] { L("10.244.1.0/24", "a", owner: A), L("10.244.2.0/24", "b", owner: B) };

        var d = Denied(Authorizer.Decide(View(table, maxLeases: 2), Claim("c"), C), ClaimDenialKind.TableFull, permanent: true);

        Assert.Equal("the lease table is full: 2 entries, cap flannel.leases.max-leases = 2; node c gets no new lease", d.Reason);
        Granted(Authorizer.Decide(View(table, maxLeases: 2), Claim("b"), B));
        // A table already over a lowered cap still renews.
        Granted(Authorizer.Decide(View(table, maxLeases: 1), Claim("a"), A));
    }
}
