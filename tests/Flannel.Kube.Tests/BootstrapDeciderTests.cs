using Akka.Actor;
using Flannel.Actors.Kubernetes;
using Xunit;

namespace Flannel.Kube.Tests;

public sealed class BootstrapDeciderTests
{
    private static Address A(string ip, int port = 2551) => new("akka.tcp", "flannel", ip, port);

    private static readonly Address N1 = A("10.0.0.1"), N2 = A("10.0.0.2"), N10 = A("10.0.0.10");

    private static IReadOnlySet<Address> Set(params Address[] a) => a.ToHashSet();

    private static Dictionary<Address, ContactProbe> Probes(params (Address, ContactProbe)[] p) => p.ToDictionary(x => x.Item1, x => x.Item2);

    private static readonly ContactProbe No = new ContactProbe.NotMember();

    [Fact]
    public void The_lowest_forms_only_after_two_equal_lookups_and_all_others_said_no()
    {
        var contacts = Set(N1, N2, N10);
        var probes = Probes((N2, No), (N10, No));
        Assert.IsType<BootstrapDecision.Wait>(BootstrapDecider.Decide(N1, [contacts], probes));
        Assert.IsType<BootstrapDecision.Form>(BootstrapDecider.Decide(N1, [contacts, contacts], probes));
    }

    [Fact]
    public void Lowest_is_numeric_not_textual()
    {
        // "10.0.0.10" < "10.0.0.2" as text, but 10.0.0.2 is the lower address.
        var contacts = Set(N2, N10);
        Assert.IsType<BootstrapDecision.Form>(BootstrapDecider.Decide(N2, [contacts, contacts], Probes((N10, No))));
        var wait = Assert.IsType<BootstrapDecision.Wait>(BootstrapDecider.Decide(N10, [contacts, contacts], Probes((N2, No))));
        Assert.Contains("10.0.0.2", wait.Reason);
    }

    [Fact]
    public void Changing_lookups_wait()
    {
        var wait = Assert.IsType<BootstrapDecision.Wait>(BootstrapDecider.Decide(N1, [Set(N1, N2), Set(N1, N2, N10)], Probes((N2, No), (N10, No))));
        Assert.Contains("changed", wait.Reason);
    }

    [Fact]
    public void The_lowest_waits_while_any_contact_has_not_answered()
    {
        var contacts = Set(N1, N2, N10);
        var wait = Assert.IsType<BootstrapDecision.Wait>(BootstrapDecider.Decide(N1, [contacts, contacts], Probes((N2, No), (N10, new ContactProbe.NoAnswer()))));
        Assert.Contains("10.0.0.10", wait.Reason);
        Assert.IsType<BootstrapDecision.Wait>(BootstrapDecider.Decide(N1, [contacts, contacts], Probes((N2, No))));
    }

    [Fact]
    public void Anyone_joins_an_existing_cluster_even_the_lowest_and_even_before_lookups_are_stable()
    {
        var existing = new ContactProbe.Member([N10, N2]);
        var join = Assert.IsType<BootstrapDecision.Join>(BootstrapDecider.Decide(N1, [Set(N1, N2, N10)], Probes((N2, No), (N10, existing))));
        Assert.Equal([N2, N10], join.Seeds);
    }

    [Fact]
    public void A_node_missing_from_its_own_lookup_never_forms()
    {
        var contacts = Set(N2, N10);
        var wait = Assert.IsType<BootstrapDecision.Wait>(BootstrapDecider.Decide(N1, [contacts, contacts], Probes((N2, No), (N10, No))));
        Assert.Contains("not among", wait.Reason);
    }

    [Fact]
    public void A_single_node_forms_alone_after_stable_lookups()
    {
        Assert.IsType<BootstrapDecision.Form>(BootstrapDecider.Decide(N1, [Set(N1), Set(N1)], Probes()));
    }

    [Fact]
    public void Any_set_of_views_has_at_most_one_former()
    {
        // Every node sees the same stable contacts and nobody is a member: exactly the lowest forms.
        var nodes = new[] { A("10.0.0.7"), A("10.0.0.3"), A("10.0.1.1"), A("10.0.0.3", 2552) };
        var contacts = nodes.ToHashSet();
        var formers = nodes.Where(self =>
            BootstrapDecider.Decide(self, [contacts, contacts], nodes.Where(n => n != self).ToDictionary(n => n, _ => No)) is BootstrapDecision.Form).ToList();
        Assert.Equal([A("10.0.0.3")], formers);
    }
}
