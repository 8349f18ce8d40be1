using System.Net;
using Flannel.Net.Backends;
using Flannel.Net.Tunnel;
using Xunit;

namespace Flannel.Net.Tests.Tunnel;

/// <summary>Issue #11 T4: a datagram from a peer is delivered only from its subnets to our lease.</summary>
public class InnerAddressCheckTests
{
    private static uint A(string s) => PeerTable.ToHost(IPAddress.Parse(s));

    private static readonly PeerTable Table = PeerTable.FromLeases(
    [
        new PeerLease(IPNetwork.Parse("10.244.2.0/24"), IPAddress.Parse("198.18.0.2"), "udp", null),
        new PeerLease(IPNetwork.Parse("10.244.3.0/24"), IPAddress.Parse("198.18.0.3"), "udp", null),
        // A peer with two subnets (e.g. while its podCIDR changes): both are its own.
        new PeerLease(IPNetwork.Parse("10.244.4.0/24"), IPAddress.Parse("198.18.0.4"), "udp", null),
        new PeerLease(IPNetwork.Parse("10.244.14.0/24"), IPAddress.Parse("198.18.0.4"), "udp", null),
    ], 8285, _ => new PeerStats());

    private static readonly LocalSubnet Own = new(IPNetwork.Parse("10.244.1.0/24"));

    private static DropReason? Check(string src, string dst, string from, LocalSubnet? local = null)
    {
        var peer = Table.LookupPeer(A(from))!;
        return InnerAddressCheck.Accept(A(src), A(dst), local ?? Own, peer, Table, out var reason) ? null : reason;
    }

    [Theory]
    [InlineData("10.244.2.5", "10.244.1.7", "198.18.0.2")]   // pod to pod
    [InlineData("10.244.2.0", "10.244.1.0", "198.18.0.2")]   // host (flannel0 address) to host
    [InlineData("10.244.14.9", "10.244.1.7", "198.18.0.4")]  // the peer's second subnet
    public void Legit_packets_pass(string src, string dst, string from) => Assert.Null(Check(src, dst, from));

    [Theory]
    [InlineData("10.244.3.5", "198.18.0.2")]    // another peer's pod, sent by .2: spoofed
    [InlineData("10.244.1.9", "198.18.0.2")]    // one of our own pods: spoofed
    [InlineData("192.0.2.1", "198.18.0.2")]     // outside the network
    [InlineData("127.0.0.1", "198.18.0.3")]
    public void A_source_outside_the_sending_peers_subnets_is_dropped(string src, string from) =>
        Assert.Equal(DropReason.ForeignSource, Check(src, "10.244.1.7", from));

    [Theory]
    [InlineData("10.244.3.7")]     // another peer's pod: we are no transit router
    [InlineData("10.96.0.1")]      // a service address
    [InlineData("169.254.169.254")]
    [InlineData("127.0.0.1")]
    [InlineData("198.18.0.1")]     // our own underlay address
    [InlineData("255.255.255.255")]
    public void A_destination_outside_our_lease_is_dropped(string dst) =>
        Assert.Equal(DropReason.ForeignDestination, Check("10.244.2.5", dst, "198.18.0.2"));

    [Fact]
    public void Without_a_known_lease_nothing_is_delivered()
    {
        var peer = Table.LookupPeer(A("198.18.0.2"))!;
        Assert.False(InnerAddressCheck.Accept(A("10.244.2.5"), A("10.244.1.7"), null, peer, Table, out var reason));
        Assert.Equal(DropReason.ForeignDestination, reason);
    }

    [Fact]
    public void The_check_does_not_allocate()
    {
        var peer = Table.LookupPeer(A("198.18.0.4"))!;
        uint good = A("10.244.14.9"), spoofed = A("10.244.3.5"), dst = A("10.244.1.7"), foreign = A("10.96.0.1");
        InnerAddressCheck.Accept(good, dst, Own, peer, Table, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int accepted = 0;
        for (int i = 0; i < 100_000; i++)
        {
            if (InnerAddressCheck.Accept(good, dst, Own, peer, Table, out _)) accepted++;
            if (InnerAddressCheck.Accept(spoofed, dst, Own, peer, Table, out _)) accepted++;
            if (InnerAddressCheck.Accept(good, foreign, Own, peer, Table, out _)) accepted++;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(100_000, accepted);
    }
}
