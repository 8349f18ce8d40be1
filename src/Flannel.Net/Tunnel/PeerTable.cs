using System.Net;
using System.Net.Sockets;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Flannel.Net.Native;

namespace Flannel.Net.Tunnel;

/// <summary>Per-peer traffic, kept across peer-table swaps as long as the public IP stays.</summary>
internal sealed class PeerStats
{
    public long TxPackets, TxBytes, RxPackets, RxBytes;

    public void AddTx(long packets, long bytes)
    {
        Interlocked.Add(ref TxPackets, packets);
        Interlocked.Add(ref TxBytes, bytes);
    }

    public void AddRx(long packets, long bytes)
    {
        Interlocked.Add(ref RxPackets, packets);
        Interlocked.Add(ref RxBytes, bytes);
    }
}

/// <summary>One subnet owned by a peer; addresses host-order.</summary>
internal sealed class PeerRoute
{
    public required uint Network { get; init; }
    public required int PrefixLength { get; init; }
    public required uint PublicIp { get; init; }
    public required PeerStats Stats { get; init; }
    public required SockAddrIn Address { get; init; }

    /// <summary>Host-order netmask of <see cref="PrefixLength"/>.</summary>
    public uint Mask => AddressMath.Mask4(PrefixLength);
}

/// <summary>
/// Immutable subnet -> peer table. Lookups are lock-free and allocation-free: one open-addressing hash table per distinct
/// prefix length, probed from the longest prefix down (a flannel network has one or two lengths). A new table is built
/// off the data path and swapped in with a single reference write.
/// </summary>
internal sealed class PeerTable
{
    public static readonly PeerTable Empty = new(Array.Empty<PeerRoute>());

    private readonly PeerRoute[] _routes;
    private readonly int[] _prefixLengths;      // distinct, longest first
    private readonly uint[][] _keys;            // per prefix length
    private readonly int[][] _slots;            // route index + 1, 0 = empty
    private readonly uint[] _peerKeys;
    private readonly int[] _peerSlots;          // route index + 1 of any route of that public IP

    public IReadOnlyList<PeerRoute> Routes => _routes;

    public PeerTable(IReadOnlyList<PeerRoute> routes)
    {
        // On duplicate subnets the last one wins, as with a replaced lease.
        var byKey = new Dictionary<(uint, int), PeerRoute>();
        foreach (var r in routes) byKey[(r.Network, r.PrefixLength)] = r;
        _routes = byKey.Values.ToArray();
        _prefixLengths = _routes.Select(r => r.PrefixLength).Distinct().OrderByDescending(l => l).ToArray();
        _keys = new uint[_prefixLengths.Length][];
        _slots = new int[_prefixLengths.Length][];
        for (int i = 0; i < _prefixLengths.Length; i++)
        {
            var indices = Enumerable.Range(0, _routes.Length).Where(j => _routes[j].PrefixLength == _prefixLengths[i]).ToArray();
            (_keys[i], _slots[i]) = Build(indices, j => _routes[j].Network);
        }
        var firstPerPeer = Enumerable.Range(0, _routes.Length).GroupBy(j => _routes[j].PublicIp).Select(g => g.First()).ToArray();
        (_peerKeys, _peerSlots) = Build(firstPerPeer, j => _routes[j].PublicIp);
    }

    private static (uint[] Keys, int[] Slots) Build(int[] indices, Func<int, uint> key)
    {
        int cap = 4;
        while (cap < indices.Length * 2) cap <<= 1;
        var keys = new uint[cap];
        var slots = new int[cap];
        foreach (var j in indices)
        {
            uint k = key(j);
            int s = Slot(k, cap);
            while (slots[s] != 0) s = (s + 1) & (cap - 1);
            keys[s] = k;
            slots[s] = j + 1;
        }
        return (keys, slots);
    }

    private static int Slot(uint key, int cap) => (int)((key * 0x9E3779B1u) >> 16) & (cap - 1);

    /// <summary>The route with the longest prefix containing <paramref name="address"/>, or null.</summary>
    public PeerRoute? Lookup(uint address)
    {
        var lengths = _prefixLengths;
        for (int i = 0; i < lengths.Length; i++)
        {
            int idx = Find(_keys[i], _slots[i], address & AddressMath.Mask4(lengths[i]));
            if (idx >= 0) return _routes[idx];
        }
        return null;
    }

    /// <summary>Any route of the peer with public IP <paramref name="publicIp"/>, or null for a stranger.</summary>
    public PeerRoute? LookupPeer(uint publicIp)
    {
        int idx = Find(_peerKeys, _peerSlots, publicIp);
        return idx >= 0 ? _routes[idx] : null;
    }

    private static int Find(uint[] keys, int[] slots, uint key)
    {
        int mask = keys.Length - 1;
        int s = Slot(key, keys.Length);
        while (true)
        {
            int v = slots[s];
            if (v == 0) return -1;
            if (keys[s] == key) return v - 1;
            s = (s + 1) & mask;
        }
    }

    /// <summary>
    /// Builds a table from leases: only IPv4 peers of the udp backend; <paramref name="stats"/> supplies the counters
    /// per public IP (kept across swaps).
    /// </summary>
    public static PeerTable FromLeases(IEnumerable<PeerLease> leases, int port, Func<uint, PeerStats> stats)
    {
        var routes = new List<PeerRoute>();
        foreach (var l in leases)
        {
            if (!string.Equals(l.BackendType, "udp", StringComparison.OrdinalIgnoreCase)) continue;
            if (l.Subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork || l.PublicIp.AddressFamily != AddressFamily.InterNetwork)
                continue;
            uint pub = ToHost(l.PublicIp);
            int len = l.Subnet.PrefixLength;
            routes.Add(new PeerRoute
            {
                Network = ToHost(l.Subnet.BaseAddress) & AddressMath.Mask4(len),
                PrefixLength = len,
                PublicIp = pub,
                Stats = stats(pub),
                Address = SockAddrIn.From(pub, port),
            });
        }
        return new PeerTable(routes);
    }

    public static uint ToHost(IPAddress a)
    {
        Span<byte> b = stackalloc byte[4];
        if (!a.TryWriteBytes(b, out _)) throw new ArgumentException($"'{a}' is not an IPv4 address", nameof(a));
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b);
    }

    public static IPAddress ToAddress(uint host)
    {
        Span<byte> b = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b, host);
        return new IPAddress(b);
    }
}
