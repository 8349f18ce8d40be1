using System.Net;
using Akka.Actor;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Xunit;

namespace Flannel.Kube.Tests;

public sealed class RejoinContactsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static Lease L(string node, int third, string? owner, TimeSpan? left = null) =>
        new(IPNetwork.Parse($"10.244.{third}.0/24"), node, IPAddress.Parse($"198.18.0.{third}"), "udp", null, Now + (left ?? TimeSpan.FromHours(1)), 1, owner);

    [Fact]
    public void The_owners_of_the_other_nodes_unexpired_leases_ordered_by_address()
    {
        var contacts = RejoinContacts.From(
        [
            L("host3", 3, "akka.ssl.tcp://flannel@198.18.0.3:4053"),
            L("host1", 1, "akka.ssl.tcp://flannel@198.18.0.1:4053"),
            L("self", 4, "akka.ssl.tcp://flannel@198.18.0.4:4053"),
            L("gone", 5, "akka.ssl.tcp://flannel@198.18.0.5:4053", TimeSpan.FromSeconds(-1)),
            L("old", 6, null),
            L("garbled", 7, "not an address"),
            L("host1-second-subnet", 8, "akka.ssl.tcp://flannel@198.18.0.1:4053"),
        ], "self", Now);

        Assert.Equal(["akka.ssl.tcp://flannel@198.18.0.1:4053", "akka.ssl.tcp://flannel@198.18.0.3:4053"], contacts.Select(a => a.ToString()));
    }

    [Fact]
    public void No_table_no_contacts() => Assert.Empty(RejoinContacts.From([], "self", Now));
}
