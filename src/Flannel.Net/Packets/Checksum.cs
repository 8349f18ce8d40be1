using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flannel.Net.Packets;

/// <summary>
/// The Internet checksum (RFC 1071). Partial sums are 32-bit values in network-order terms, i.e. the sum of the
/// big-endian 16-bit words, so they can be added together and folded at the end.
/// </summary>
public static class Checksum
{
    /// <summary>Adds the bytes of <paramref name="data"/> (an even offset in the checksummed region) to <paramref name="initial"/>.</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        // Summing native-order words and swapping once at the end is equivalent (RFC 1071 byte-order independence).
        ulong sum = 0;
        ref byte p = ref MemoryMarshal.GetReference(data);
        int len = data.Length;
        int i = 0;
        for (; i + 32 <= len; i += 32)
        {
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 4));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 8));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 12));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 16));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 20));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 24));
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 28));
        }
        for (; i + 4 <= len; i += 4) sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
        if (i + 2 <= len) { sum += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, i)); i += 2; }
        if (i < len)
        {
            // A trailing odd byte is the high byte of a big-endian word padded with zero.
            sum += BitConverter.IsLittleEndian ? Unsafe.Add(ref p, i) : (uint)Unsafe.Add(ref p, i) << 8;
        }
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffffffff) + (sum >> 32);
        uint s32 = (uint)sum;
        s32 = (s32 & 0xffff) + (s32 >> 16);
        s32 = (s32 & 0xffff) + (s32 >> 16);
        ushort native = (ushort)s32;
        ushort be = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(native) : native;
        return initial + be;
    }

    /// <summary>Folds a partial sum to 16 bits (not inverted).</summary>
    public static ushort Fold(uint sum)
    {
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The final checksum field value: the complement of the folded sum.</summary>
    public static ushort Finish(uint sum) => (ushort)~Fold(sum);

    /// <summary>The TCP/UDP pseudo-header sum for IPv4 (addresses in host order, as read big-endian).</summary>
    public static uint PseudoHeader(uint src, uint dst, byte protocol, int l4Length) =>
        (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + protocol + (uint)l4Length;
}
