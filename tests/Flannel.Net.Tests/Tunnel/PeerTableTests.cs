using System.Net;
using Flannel.Net.Backends;
using Flannel.Net.Tunnel;
using Xunit;

namespace Flannel.Net.Tests.Tunnel;

public class PeerTableTests
{
    private static uint A(string s) => PeerTable.ToHost(IPAddress.Parse(s));

    private static PeerLease Lease(string subnet, string ip, string type = "udp") =>
        new(IPNetwork.Parse(subnet), IPAddress.Parse(ip), type, null);

    private static PeerTable Table(params PeerLease[] leases) => PeerTable.FromLeases(leases, 8285, _ => new PeerStats());

    [Fact]
    public void Longest_prefix_wins()
    {
        var t = Table(Lease("10.5.0.0/16", "192.168.1.1"), Lease("10.5.3.0/24", "192.168.1.3"), Lease("10.5.3.7/32", "192.168.1.7"),
            Lease("0.0.0.0/0", "192.168.1.100"));
        Assert.Equal(A("192.168.1.1"), t.Lookup(A("10.5.4.1"))!.PublicIp);
        Assert.Equal(A("192.168.1.3"), t.Lookup(A("10.5.3.1"))!.PublicIp);
        Assert.Equal(A("192.168.1.7"), t.Lookup(A("10.5.3.7"))!.PublicIp);
        Assert.Equal(A("192.168.1.100"), t.Lookup(A("172.20.0.1"))!.PublicIp);
    }

    [Fact]
    public void Unknown_destination_and_stranger_give_null()
    {
        var t = Table(Lease("10.5.1.0/24", "192.168.1.1"), Lease("10.5.2.0/24", "192.168.1.2"));
        Assert.Null(t.Lookup(A("10.5.3.1")));
        Assert.Null(t.LookupPeer(A("192.168.1.9")));
        Assert.Equal(A("10.5.2.0"), t.LookupPeer(A("192.168.1.2"))!.Network);
        Assert.Null(PeerTable.Empty.Lookup(A("10.5.1.1")));
    }

    [Fact]
    public void Subnet_base_address_is_masked_and_port_used_for_the_socket_address()
    {
        var t = PeerTable.FromLeases([new PeerLease(new IPNetwork(IPAddress.Parse("10.5.1.0"), 24), IPAddress.Parse("192.168.1.1"), "udp", null)], 9999, _ => new PeerStats());
        var r = t.Lookup(A("10.5.1.200"))!;
        Assert.Equal(9999, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(r.Address.PortBE));
        Assert.Equal(A("192.168.1.1"), r.Address.AddrHostOrder);
    }

    [Fact]
    public void Only_ipv4_udp_peers_are_used()
    {
        var t = Table(Lease("10.5.1.0/24", "192.168.1.1", "vxlan"), Lease("10.5.2.0/24", "192.168.1.2", "UDP"),
            new PeerLease(IPNetwork.Parse("fd00::/64"), IPAddress.Parse("fd00::1"), "udp", null));
        Assert.Null(t.Lookup(A("10.5.1.1")));
        Assert.NotNull(t.Lookup(A("10.5.2.1")));
        Assert.Single(t.Routes);
    }

    [Fact]
    public void Many_peers_all_found()
    {
        var leases = Enumerable.Range(0, 3000).Select(i => Lease($"10.{i / 256}.{i % 256}.0/24", $"192.168.{i / 256}.{i % 256}")).ToArray();
        var t = Table(leases);
        for (int i = 0; i < 3000; i++)
        {
            Assert.Equal(A($"192.168.{i / 256}.{i % 256}"), t.Lookup(A($"10.{i / 256}.{i % 256}.77"))!.PublicIp);
            Assert.NotNull(t.LookupPeer(A($"192.168.{i / 256}.{i % 256}")));
        }
    }

    [Fact]
    public void Lookups_do_not_allocate()
    {
        var t = Table(Lease("10.5.0.0/16", "192.168.1.1"), Lease("10.5.3.0/24", "192.168.1.3"));
        uint dst = A("10.5.3.9"), miss = A("10.9.0.1"), peer = A("192.168.1.3");
        int Loop()
        {
            int found = 0;
            for (int i = 0; i < 100_000; i++)
            {
                if (t.Lookup(dst) != null) found++;
                if (t.Lookup(miss) != null) found++;
                if (t.LookupPeer(peer) != null) found++;
            }
            return found;
        }
        // The least of three passes: the JIT's tier-up of the loop (OSR) may allocate on this thread once, under load at
        // any pass; a lookup that allocates would show in every pass.
        var allocated = long.MaxValue;
        for (int pass = 0; pass < 3; pass++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var found = Loop();
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(200_000, found);
        }
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task Readers_see_the_old_or_the_new_table_while_it_is_swapped()
    {
        // Table A: 10.5.1.0/24 -> .1 ; table B: 10.5.1.0/24 -> .2 and 10.5.1.128/25 -> .3. Every read of 10.5.1.200 must
        // give one of those owners, never null or a mix.
        var a = Table(Lease("10.5.1.0/24", "192.168.1.1"));
        var b = Table(Lease("10.5.1.0/24", "192.168.1.2"), Lease("10.5.1.128/25", "192.168.1.3"));
        var state = new TunnelState { Mtu = 1472, CheckInnerAddresses = false, TunAddress = 0 };
        state.Table = a;
        uint dst = A("10.5.1.200");
        uint ownerA = A("192.168.1.1"), ownerB = A("192.168.1.3");
        using var stop = new CancellationTokenSource();
        long bad = 0, reads = 0;
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var r = state.Table.Lookup(dst);
                if (r is null || (r.PublicIp != ownerA && r.PublicIp != ownerB)) Interlocked.Increment(ref bad);
                Interlocked.Increment(ref reads);
            }
        })).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        for (int i = 0; Interlocked.Read(ref reads) < 200_000 && DateTime.UtcNow < deadline; i++) state.Table = i % 2 == 0 ? b : a;
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Equal(0, bad);
        Assert.True(reads >= 200_000, $"only {reads} reads");
    }
}
