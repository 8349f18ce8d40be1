using System.Net;
using Flannel.Actors.Leases;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.Actors.Tests.Leases;

public class SubnetAllocatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ttl = TimeSpan.FromHours(24);
    private static readonly NetConf Conf = NetConf.Parse("""{"Network":"10.244.0.0/16"}""");

    private static IPNetwork Net(string s) => IPNetwork.Parse(s);

    private static LeaseClaim Claim(string node, string ip = "192.0.2.1", IPNetwork? previous = null, IPNetwork? required = null,
        NetConf? conf = null) =>
        new(node, IPAddress.Parse(ip), "vxlan", """{"VNI":1}""", previous, required, conf ?? Conf, Ttl);

    private static Lease L(string subnet, string node, string ip = "192.0.2.9", DateTimeOffset? expiration = null, long version = 1) =>
        new(Net(subnet), node, IPAddress.Parse(ip), "vxlan", null, expiration ?? Now + TimeSpan.FromHours(1), version);

    private static Dictionary<IPNetwork, Lease> Table(params Lease[] leases) => leases.ToDictionary(l => l.Subnet);

    private static AllocationGranted Granted(AllocationResult r) => Assert.IsType<AllocationGranted>(r);

    [Fact]
    public void An_existing_lease_of_this_node_that_fits_is_renewed_with_new_expiration_version_and_backend()
    {
        var table = Table(L("10.244.7.0/24", "a", version: 3), L("10.244.8.0/24", "b"));
        var g = Granted(new SubnetAllocator(new Random(1)).Allocate(table, Claim("a", previous: Net("10.244.9.0/24")), Now));
        Assert.Equal(Net("10.244.7.0/24"), g.Lease.Subnet);
        Assert.Equal(4, g.Lease.Version);
        Assert.Equal(Now + Ttl, g.Lease.Expiration);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), g.Lease.PublicIp);
        Assert.Equal("""{"VNI":1}""", g.Lease.BackendData);
        Assert.Equal("own lease", g.How);
        Assert.Empty(g.Removed);
    }

    [Fact]
    public void Among_several_own_leases_the_one_with_our_public_ip_wins_and_the_others_are_removed()
    {
        var table = Table(L("10.244.7.0/24", "a", ip: "192.0.2.50"), L("10.244.8.0/24", "a", ip: "192.0.2.1"));
        var g = Granted(new SubnetAllocator().Allocate(table, Claim("a"), Now));
        Assert.Equal(Net("10.244.8.0/24"), g.Lease.Subnet);
        Assert.Equal([Net("10.244.7.0/24")], g.Removed);
    }

    [Fact]
    public void An_own_lease_that_no_longer_fits_is_replaced()
    {
        var narrow = NetConf.Parse("""{"Network":"10.244.0.0/16","SubnetMin":"10.244.100.0","SubnetMax":"10.244.100.0"}""");
        var table = Table(L("10.244.7.0/24", "a"));
        var g = Granted(new SubnetAllocator().Allocate(table, Claim("a", conf: narrow), Now));
        Assert.Equal(Net("10.244.100.0/24"), g.Lease.Subnet);
        Assert.Equal([Net("10.244.7.0/24")], g.Removed);
    }

    [Fact]
    public void The_previous_subnet_is_taken_when_free_and_fitting()
    {
        var g = Granted(new SubnetAllocator().Allocate(Table(L("10.244.8.0/24", "b")), Claim("a", previous: Net("10.244.42.0/24")), Now));
        Assert.Equal(Net("10.244.42.0/24"), g.Lease.Subnet);
        Assert.Equal("previous subnet", g.How);
        Assert.Equal(1, g.Lease.Version);
    }

    [Fact]
    public void The_previous_subnet_held_by_another_live_node_is_not_taken()
    {
        var g = Granted(new SubnetAllocator(new Random(3)).Allocate(Table(L("10.244.42.0/24", "b")), Claim("a", previous: Net("10.244.42.0/24")), Now));
        Assert.NotEqual(Net("10.244.42.0/24"), g.Lease.Subnet);
        Assert.Equal("free subnet", g.How);
    }

    [Fact]
    public void The_previous_subnet_of_an_expired_lease_is_taken_over_with_a_higher_version()
    {
        var table = Table(L("10.244.42.0/24", "b", expiration: Now - TimeSpan.FromSeconds(1), version: 7));
        var g = Granted(new SubnetAllocator().Allocate(table, Claim("a", previous: Net("10.244.42.0/24")), Now));
        Assert.Equal(Net("10.244.42.0/24"), g.Lease.Subnet);
        Assert.Equal(8, g.Lease.Version);
        Assert.Equal("a", g.Lease.Node);
    }

    [Fact]
    public void A_previous_subnet_outside_the_range_is_ignored()
    {
        var g = Granted(new SubnetAllocator(new Random(5)).Allocate(Table(), Claim("a", previous: Net("10.244.0.0/24")), Now));
        Assert.NotEqual(Net("10.244.0.0/24"), g.Lease.Subnet); // the first subnet is never handed out (SubnetMin default)
        Assert.True(Conf.Fits(g.Lease.Subnet));
    }

    [Fact]
    public void A_free_subnet_is_chosen_at_random_among_the_first_100_free_ones()
    {
        var table = Table(L("10.244.1.0/24", "b"), L("10.244.2.0/24", "c"));
        var seen = new HashSet<IPNetwork>();
        var allocator = new SubnetAllocator(new Random(42));
        for (var i = 0; i < 2000; i++) seen.Add(Granted(allocator.Allocate(table, Claim("a"), Now)).Lease.Subnet);
        var allowed = Conf.EnumerateSubnets().Skip(2).Take(100).ToHashSet();
        Assert.Subset(allowed, seen);
        Assert.True(seen.Count > 90, $"only {seen.Count} distinct choices");
    }

    [Fact]
    public void Out_of_subnets_names_network_subnetlen_and_count_in_use()
    {
        var small = NetConf.Parse("""{"Network":"10.10.0.0/28","SubnetLen":30}""");
        var table = Table(L("10.10.0.4/30", "b"), L("10.10.0.8/30", "c"), L("10.10.0.12/30", "d"));
        var r = Assert.IsType<AllocationRefused>(new SubnetAllocator().Allocate(table, Claim("a", conf: small), Now));
        Assert.Equal("out of subnets: Network 10.10.0.0/28, SubnetLen 30: 3 of 3 subnets (10.10.0.4..10.10.0.12) in use", r.Reason);
    }

    [Fact]
    public void Expired_leases_count_as_free()
    {
        var small = NetConf.Parse("""{"Network":"10.10.0.0/28","SubnetLen":30}""");
        var table = Table(L("10.10.0.4/30", "b"), L("10.10.0.8/30", "c", expiration: Now), L("10.10.0.12/30", "d"));
        var g = Granted(new SubnetAllocator().Allocate(table, Claim("a", conf: small), Now));
        Assert.Equal(Net("10.10.0.8/30"), g.Lease.Subnet);
    }

    [Fact]
    public void A_required_podCIDR_is_leased_exactly_over_another_nodes_expired_lease()
    {
        var table = Table(L("10.244.5.0/24", "b", expiration: Now - TimeSpan.FromSeconds(1), version: 2), L("10.244.9.0/24", "a"));
        var g = Granted(new SubnetAllocator().Allocate(table, Claim("a", required: Net("10.244.5.0/24")), Now));
        Assert.Equal(Net("10.244.5.0/24"), g.Lease.Subnet);
        Assert.Equal(3, g.Lease.Version);
        Assert.Equal("podCIDR", g.How);
        Assert.Equal([Net("10.244.9.0/24")], g.Removed);
    }

    [Fact]
    public void A_required_podCIDR_never_takes_another_nodes_unexpired_lease()
    {
        // The attack: a claim "requiring" host 2's subnet used to win over host 2's live lease.
        var table = Table(L("10.244.5.0/24", "b", version: 2));
        var r = Assert.IsType<AllocationRefused>(new SubnetAllocator().Allocate(table, Claim("a", required: Net("10.244.5.0/24")), Now));
        Assert.Equal("podCIDR 10.244.5.0/24 of node a overlaps the unexpired lease 10.244.5.0/24 of node b", r.Reason);
        var wider = Assert.IsType<AllocationRefused>(new SubnetAllocator().Allocate(table, Claim("a", required: Net("10.244.4.0/23")), Now));
        Assert.Contains("overlaps the unexpired lease 10.244.5.0/24 of node b", wider.Reason);
    }

    [Fact]
    public void A_podCIDR_ignores_SubnetLen_but_must_lie_inside_Network()
    {
        var g = Granted(new SubnetAllocator().Allocate(Table(), Claim("a", required: Net("10.244.0.0/25")), Now));
        Assert.Equal(Net("10.244.0.0/25"), g.Lease.Subnet);
        var r = Assert.IsType<AllocationRefused>(new SubnetAllocator().Allocate(Table(), Claim("a", required: Net("10.99.0.0/24")), Now));
        Assert.Equal("podCIDR 10.99.0.0/24 of node a is not inside Network 10.244.0.0/16", r.Reason);
    }

    [Fact]
    public void A_podCIDR_removes_overlapping_expired_leases_of_other_prefix_lengths()
    {
        var expired = Now - TimeSpan.FromMinutes(1);
        var table = Table(L("10.244.4.0/25", "b", expiration: expired), L("10.244.4.128/25", "c", expiration: expired), L("10.244.5.0/24", "d"));
        var g = Granted(new SubnetAllocator().Allocate(table, Claim("a", required: Net("10.244.4.0/24")), Now));
        Assert.Equal([Net("10.244.4.0/25"), Net("10.244.4.128/25")], g.Removed.OrderBy(n => n.ToString()));
    }

    [Fact]
    public void Free_subnets_skip_leases_of_other_prefix_lengths_that_overlap()
    {
        var small = NetConf.Parse("""{"Network":"10.10.0.0/24","SubnetLen":26}""");
        // A /25 podCIDR-style lease covers 10.10.0.128/26 and 10.10.0.192/26; 10.10.0.64/26 is the only free one.
        var table = Table(L("10.10.0.128/25", "b"));
        var g = Granted(new SubnetAllocator(new Random(9)).Allocate(table, Claim("a", conf: small), Now));
        Assert.Equal(Net("10.10.0.64/26"), g.Lease.Subnet);
    }

    [Fact]
    public void A_version_at_long_MaxValue_saturates_instead_of_wrapping()
    {
        var table = Table(L("10.244.7.0/24", "a", version: long.MaxValue));
        var g = Granted(new SubnetAllocator().Allocate(table, Claim("a"), Now));
        Assert.Equal(Net("10.244.7.0/24"), g.Lease.Subnet);
        Assert.Equal(long.MaxValue, g.Lease.Version);
        Assert.Equal(long.MaxValue, SubnetAllocator.NextVersion(long.MaxValue - 1));
        Assert.Equal(1, SubnetAllocator.NextVersion(-5)); // bad data restarts at 1, never below
    }

    [Fact]
    public void The_grant_records_the_claimants_member_address_as_owner()
    {
        var g = Granted(new SubnetAllocator().Allocate(Table(), Claim("a"), Now, owner: "akka.tcp://flannel@198.18.0.1:4053"));
        Assert.Equal("akka.tcp://flannel@198.18.0.1:4053", g.Lease.Owner);
    }

    [Fact]
    public void Expiration_is_whole_milliseconds()
    {
        var now = Now + TimeSpan.FromTicks(12345);
        var g = Granted(new SubnetAllocator().Allocate(Table(), Claim("a"), now));
        Assert.Equal(0, g.Lease.Expiration.Ticks % TimeSpan.TicksPerMillisecond);
    }

    [Fact]
    public void Expired_lists_every_lease_at_or_past_its_expiration()
    {
        var table = Table(L("10.244.1.0/24", "a", expiration: Now), L("10.244.2.0/24", "b", expiration: Now + TimeSpan.FromMilliseconds(1)),
            L("10.244.3.0/24", "c", expiration: Now - TimeSpan.FromHours(1)));
        Assert.Equal([Net("10.244.1.0/24"), Net("10.244.3.0/24")], SubnetAllocator.Expired(table, Now).OrderBy(n => n.ToString()));
    }

    [Fact]
    public void Sequential_claims_on_one_table_never_share_a_subnet()
    {
        var small = NetConf.Parse("""{"Network":"10.10.0.0/24","SubnetLen":28}""");
        var table = new Dictionary<IPNetwork, Lease>();
        var allocator = new SubnetAllocator(new Random(7));
        for (var i = 0; i < 15; i++)
        {
            var g = Granted(allocator.Allocate(table, Claim($"n{i}", conf: small), Now));
            Assert.False(table.ContainsKey(g.Lease.Subnet));
            table[g.Lease.Subnet] = g.Lease;
        }
        Assert.IsType<AllocationRefused>(allocator.Allocate(table, Claim("n15", conf: small), Now));
    }
}
