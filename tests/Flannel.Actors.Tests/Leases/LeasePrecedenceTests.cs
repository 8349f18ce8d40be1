using System.Diagnostics;
using System.Net;
using Flannel.Actors.Leases;
using Xunit;

namespace Flannel.Actors.Tests.Leases;

public sealed class LeasePrecedenceTests
{
    private static Lease L(string subnet, string node, long version, string ip = "192.0.2.2") =>
        new(IPNetwork.Parse(subnet), node, IPAddress.Parse(ip), "vxlan", null, DateTimeOffset.UnixEpoch.AddDays(20_000), version);

    private static KeyValuePair<string, Lease> E(string key, Lease lease) => new(key, lease);

    [Fact]
    public void Two_keys_for_one_subnet_give_one_lease_and_one_duplicate_in_any_order()
    {
        var real = L("10.244.5.0/24", "b", 3);
        var rogue = L("10.244.5.0/24", "evil", long.MaxValue, "192.0.2.66");
        foreach (var entries in new[] { new[] { E("10.244.5.0/24", real), E("evil", rogue) }, new[] { E("evil", rogue), E("10.244.5.0/24", real) } })
        {
            var view = LeasePrecedence.Build(entries);
            // The entry under the subnet's own key (the one the allocator wrote) wins even over a higher version.
            Assert.Same(real, Assert.Single(view.Table).Value);
            var dup = Assert.Single(view.Duplicates);
            Assert.Equal(("evil", rogue, real), (dup.Key, dup.Lease, dup.Winner));
        }
    }

    [Fact]
    public void Among_equally_keyed_entries_the_highest_version_then_the_lowest_node_name_wins()
    {
        var v2 = L("10.244.5.0/24", "a", 2);
        var v7z = L("10.244.5.0/24", "z", 7);
        var v7m = L("10.244.5.0/24", "m", 7);
        var orders = new[]
        {
            new[] { E("k1", v2), E("k2", v7z), E("k3", v7m) },
            new[] { E("k3", v7m), E("k1", v2), E("k2", v7z) },
            new[] { E("k2", v7z), E("k3", v7m), E("k1", v2) },
        };
        foreach (var entries in orders)
        {
            var view = LeasePrecedence.Build(entries);
            Assert.Same(v7m, view.Table[IPNetwork.Parse("10.244.5.0/24")]);
            Assert.Equal(["k1", "k2"], view.Duplicates.Select(d => d.Key));
        }
    }

    [Fact]
    public void Identical_leases_under_two_foreign_keys_are_resolved_by_key()
    {
        var l = L("10.244.5.0/24", "a", 1);
        var copy = l with { };
        var view = LeasePrecedence.Build([E("x", copy), E("b", l)]);
        Assert.Equal("x", Assert.Single(view.Duplicates).Key);
    }

    [Fact]
    public void Null_values_are_skipped()
    {
        var view = LeasePrecedence.Build([E("10.244.5.0/24", L("10.244.5.0/24", "a", 1)), E("null", null!)]);
        Assert.Single(view.Table);
        Assert.Empty(view.Duplicates);
    }

    [Fact]
    public void A_table_of_100000_entries_with_duplicates_and_odd_prefixes_is_built_quickly()
    {
        var entries = new List<KeyValuePair<string, Lease>>();
        for (int i = 0; i < 100_000; i++)
        {
            var subnet = i % 3 == 0 ? $"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}/32" : $"10.{128 + i % 64}.0.0/{10 + i % 3}";
            var canonical = IPNetwork.Parse(subnet).ToString();
            entries.Add(E(i % 2 == 0 ? canonical : $"rogue-{i}", L(canonical, $"n{i % 7}", i % 5 == 0 ? long.MaxValue : i)));
        }
        var sw = Stopwatch.StartNew();
        var view = LeasePrecedence.Build(entries);
        sw.Stop();
        Assert.Equal(100_000, view.Table.Count + view.Duplicates.Count);
        // Measured about 0.1-0.2 s on a 2-core VM; the bound leaves room for a busy machine.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"Build took {sw.Elapsed}");
    }
}
