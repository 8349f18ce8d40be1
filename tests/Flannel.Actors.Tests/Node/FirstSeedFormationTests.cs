using Akka.Actor;
using Flannel.Actors.Node;
using Xunit;

namespace Flannel.Actors.Tests.Node;

public sealed class FirstSeedFormationTests
{
    private static Address A(string ip) => new("akka.ssl.tcp", "flannel", ip, 8285);

    private static readonly Address H2 = A("198.18.0.2"), H3 = A("198.18.0.3");

    private static FirstSeedDecision Decide(params (Address, SeedContact)[] others) =>
        FirstSeedFormation.Decide(others.ToDictionary(x => x.Item1, x => x.Item2));

    [Fact]
    public void Every_other_seed_refused_the_connection_so_the_first_seed_forms_at_once()
    {
        var form = Assert.IsType<FirstSeedDecision.Form>(Decide((H2, SeedContact.Refused), (H3, SeedContact.Refused)));
        Assert.Contains("refused the connection", form.Reason, StringComparison.Ordinal);
        Assert.Contains(H2.ToString(), form.Reason, StringComparison.Ordinal);
        Assert.Contains(H3.ToString(), form.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_seed_not_heard_of_yet_is_waited_for()
    {
        Assert.IsType<FirstSeedDecision.Wait>(Decide((H2, SeedContact.Refused), (H3, SeedContact.Pending)));
        Assert.IsType<FirstSeedDecision.Wait>(Decide((H2, SeedContact.Pending), (H3, SeedContact.Pending)));
    }

    [Fact]
    public void A_seed_that_answers_leaves_the_start_to_Akka_even_when_the_others_refused()
    {
        // It runs (a member or starting): Akka's first-seed process joins its cluster or hears its "no cluster".
        var akka = Assert.IsType<FirstSeedDecision.AkkaDefault>(Decide((H2, SeedContact.Refused), (H3, SeedContact.Answered)));
        Assert.Contains(H3.ToString(), akka.Reason, StringComparison.Ordinal);
        Assert.IsType<FirstSeedDecision.AkkaDefault>(Decide((H2, SeedContact.Pending), (H3, SeedContact.Answered)));
    }

    [Fact]
    public void A_silent_or_otherwise_failing_seed_leaves_the_start_to_Akka_never_forming_at_once()
    {
        // A partition drops packets: the seed may be running the cluster, so only Akka's seed-node-timeout may form one.
        var akka = Assert.IsType<FirstSeedDecision.AkkaDefault>(Decide((H2, SeedContact.Refused), (H3, SeedContact.Unknown)));
        Assert.Contains("neither answered nor refused", akka.Reason, StringComparison.Ordinal);
        Assert.IsType<FirstSeedDecision.AkkaDefault>(Decide((H2, SeedContact.Unknown), (H3, SeedContact.Pending)));
    }

    [Fact]
    public void No_other_seed_is_a_caller_error()
    {
        Assert.Throws<ArgumentException>(() => FirstSeedFormation.Decide(new Dictionary<Address, SeedContact>()));
    }
}
