using System.Net;
using Akka.Actor;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Xunit;

namespace Flannel.Actors.Tests.Node;

public sealed class RememberedClusterFormationTests
{
    private static Address A(string ip) => new("akka.ssl.tcp", "flannel", ip, 8285);

    private static readonly Address H1 = A("198.18.0.1"), H2 = A("198.18.0.2"), H3 = A("198.18.0.3"), H10 = A("198.18.0.10");
    private static readonly ContactProbe No = new ContactProbe.NotMember();
    private static readonly ContactProbe Silent = new ContactProbe.NoAnswer();

    private static Dictionary<Address, ContactProbe> Probes(params (Address, ContactProbe)[] p) => p.ToDictionary(x => x.Item1, x => x.Item2);

    private static FormationDecision Decide(Address self, RememberedCluster? remembered, Dictionary<Address, ContactProbe> probes,
        double waitedSeconds = 0, double? formAloneAfter = null) =>
        RememberedClusterFormation.Decide(self, remembered, probes, TimeSpan.FromSeconds(waitedSeconds),
            formAloneAfter is { } f ? TimeSpan.FromSeconds(f) : null);

    [Fact]
    public void A_first_seed_cut_off_after_a_restart_waits_instead_of_forming_a_second_cluster()
    {
        var d = Decide(H1, new RememberedCluster(3, true), Probes((H2, Silent), (H3, Silent)), waitedSeconds: 600);
        var wait = Assert.IsType<FormationDecision.Wait>(d);
        Assert.Contains("cluster of 3 nodes", wait.Reason, StringComparison.Ordinal);
        Assert.Contains("2 needed", wait.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_seed_that_is_a_member_is_joined_through_its_members_whatever_the_store_says()
    {
        var running = new ContactProbe.Member([H2, H3]);
        var join = Assert.IsType<FormationDecision.Join>(Decide(H1, new RememberedCluster(3, true), Probes((H2, running), (H3, Silent))));
        Assert.Equal([H2, H3], join.Seeds);
        Assert.IsType<FormationDecision.Join>(Decide(H1, null, Probes((H2, running))));
    }

    [Fact]
    public void Without_a_remembered_cluster_of_others_Akkas_start_up_decides()
    {
        Assert.IsType<FormationDecision.AkkaDefault>(Decide(H1, null, Probes((H2, Silent))));
        Assert.IsType<FormationDecision.AkkaDefault>(Decide(H1, new RememberedCluster(0, false), Probes((H2, Silent))));
        Assert.IsType<FormationDecision.AkkaDefault>(Decide(H1, new RememberedCluster(1, true), Probes((H2, Silent))));
    }

    [Fact]
    public void A_whole_cluster_restart_with_a_majority_back_is_formed_by_the_lowest_of_them_only()
    {
        var remembered = new RememberedCluster(3, true);
        var form = Assert.IsType<FormationDecision.Form>(Decide(H1, remembered, Probes((H2, No), (H3, Silent))));
        Assert.False(form.OnTimeout);
        var wait = Assert.IsType<FormationDecision.Wait>(Decide(H2, remembered, Probes((H1, No), (H3, Silent))));
        Assert.Contains("lowest, " + H1, wait.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Lowest_is_by_address_number_not_text()
    {
        var remembered = new RememberedCluster(3, true);
        Assert.IsType<FormationDecision.Form>(Decide(H2, remembered, Probes((H10, No))));
        Assert.IsType<FormationDecision.Wait>(Decide(H10, remembered, Probes((H2, No))));
    }

    [Fact]
    public void A_minority_restarting_together_during_a_cut_never_forms_even_when_its_nodes_answer()
    {
        // 5 remembered members, hosts 4 and 5 cut off: both answer "no cluster" to each other, 2 < 3.
        var h4 = A("198.18.0.4");
        var h5 = A("198.18.0.5");
        var d = Decide(h4, new RememberedCluster(5, true), Probes((H1, Silent), (H2, Silent), (H3, Silent), (h5, No)));
        Assert.IsType<FormationDecision.Wait>(d);
        // Two nodes of four are not a strict majority either: a 2-2 split cannot form on both sides.
        Assert.IsType<FormationDecision.Wait>(Decide(H1, new RememberedCluster(4, true), Probes((H2, No), (H3, Silent), (H10, Silent))));
    }

    [Fact]
    public void The_operators_time_out_forms_alone_and_says_so_and_not_before()
    {
        var remembered = new RememberedCluster(3, true);
        var probes = Probes((H2, Silent), (H3, Silent));
        Assert.IsType<FormationDecision.Wait>(Decide(H1, remembered, probes, waitedSeconds: 59, formAloneAfter: 60));
        var form = Assert.IsType<FormationDecision.Form>(Decide(H1, remembered, probes, waitedSeconds: 60, formAloneAfter: 60));
        Assert.True(form.OnTimeout);
        Assert.Contains("--cluster-form-alone-after", form.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_remembered_members_are_the_distinct_nodes_with_unexpired_leases()
    {
        var now = DateTimeOffset.Parse("2026-11-30T20:00:00Z");
        Lease L(string subnet, string node, double hours) =>
            new(IPNetwork.Parse(subnet), node, IPAddress.Parse("198.18.0.1"), "vxlan", null, now.AddHours(hours), 1);
        var table = new[] { L("10.244.1.0/24", "a", 24), L("10.244.2.0/24", "b", 24), L("10.244.3.0/24", "b", 24), L("10.244.4.0/24", "c", -1) };
        Assert.Equal(new RememberedCluster(2, true), RememberedClusterBootstrap.Of(table, "a", now));
        Assert.Equal(new RememberedCluster(2, false), RememberedClusterBootstrap.Of(table, "c", now));
    }
}
