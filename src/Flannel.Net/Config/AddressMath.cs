using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Flannel.Net.Config;

/// <summary>IPv4 addresses as host-order uint and IPv6 addresses as UInt128, for subnet arithmetic.</summary>
public static class AddressMath
{
    public static uint ToUInt32(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(b);
    }

    public static IPAddress FromUInt32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        return new IPAddress(b);
    }

    public static UInt128 ToUInt128(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException($"{address} is not an IPv6 address", nameof(address));
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(b);
    }

    public static IPAddress FromUInt128(UInt128 value)
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(b, value);
        return new IPAddress(b);
    }

    /// <summary>The IPv4 netmask of a prefix length, host order (0 for /0). Used on the udp packet path.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static uint Mask4(int prefixLength) => prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength);

    /// <summary>True when the two networks share an address (same family; one contains the other's base).</summary>
    public static bool Overlap(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && (a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress));

    /// <summary>Number of addresses in a block of the given prefix length (IPv4).</summary>
    public static ulong BlockSize4(int prefixLength) => 1UL << (32 - prefixLength);

    public static UInt128 BlockSize6(int prefixLength) => UInt128.One << (128 - prefixLength);

    /// <summary>The network with host bits cleared; flannel (Go's net.ParseCIDR) silently masks them too.</summary>
    public static IPNetwork Masked(IPAddress address, int prefixLength)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return new IPNetwork(FromUInt32(ToUInt32(address) & Mask4(prefixLength)), prefixLength);
        }
        var mask6 = prefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefixLength);
        return new IPNetwork(FromUInt128(ToUInt128(address) & mask6), prefixLength);
    }

    /// <summary>Parses "a.b.c.d/n" or "x::/n", masking host bits like Go's net.ParseCIDR.</summary>
    public static bool TryParseCidr(string text, out IPNetwork network)
    {
        network = default;
        var slash = text.IndexOf('/');
        if (slash <= 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var addr)) return false;
        var max = addr.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var digits = text.AsSpan(slash + 1);
        if (digits.Length is 0 or > 3) return false;
        foreach (var c in digits) if (c is < '0' or > '9') return false;
        var prefix = int.Parse(digits);
        if (prefix > max) return false;
        // IPAddress.TryParse accepts forms Go rejects (e.g. "10.1" or a scope id); insist on the canonical family shapes.
        if (addr.AddressFamily == AddressFamily.InterNetwork && text[..slash].Count(c => c == '.') != 3) return false;
        if (addr.AddressFamily == AddressFamily.InterNetworkV6 && addr.ScopeId != 0) return false;
        network = Masked(addr, prefix);
        return true;
    }
}
