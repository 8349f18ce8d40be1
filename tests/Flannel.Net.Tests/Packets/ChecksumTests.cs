using CsCheck;
using Flannel.Net.Packets;
using Xunit;

namespace Flannel.Net.Tests.Packets;

public class ChecksumTests
{
    private static ushort Reference(byte[] data)
    {
        ulong sum = 0;
        for (int i = 0; i < data.Length; i += 2)
            sum += (ulong)(data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0));
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    [Fact]
    public void Sum_matches_a_word_by_word_reference_for_any_length()
    {
        Gen.Byte.Array[0, 3000].Sample(data => Checksum.Finish(Checksum.Sum(data)) == Reference(data));
    }

    [Fact]
    public void Sum_matches_the_reference_for_super_packet_sizes_and_all_ones()
    {
        // The vector path's lanes must not overflow: all-0xff words are the worst case.
        Assert.Equal(Reference(Enumerable.Repeat((byte)0xff, 65535).ToArray()),
            Checksum.Finish(Checksum.Sum(Enumerable.Repeat((byte)0xff, 65535).ToArray())));
        var big = Enumerable.Repeat((byte)0xff, 3 << 20).ToArray();
        Assert.Equal(Reference(big), Checksum.Finish(Checksum.Sum(big)));
        Gen.Byte.Array[60, 70000].Sample(data => Checksum.Finish(Checksum.Sum(data)) == Reference(data), iter: 200);
    }

    // Sum takes one vector path per process (256-bit under the JIT on AVX2 hardware, 128-bit in the NativeAOT agent):
    // both are checked here directly, whichever this machine's Sum uses.
    [Fact]
    public void Both_vector_paths_match_the_reference_including_all_ones()
    {
        static ushort Via(byte[] data, bool wide)
        {
            ulong v = data.Length == 0 ? 0 : wide && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated
                ? Checksum.SumVector(ref data[0], data.Length)
                : Checksum.SumVector128(ref data[0], data.Length);
            // The vector paths sum the whole 64-byte blocks: the scalar rest adds as an even-offset partial sum.
            return Checksum.Finish(Checksum.Sum(data.AsSpan(data.Length & ~63), Checksum.Reduce(v)));
        }
        var big = Enumerable.Repeat((byte)0xff, 3 << 20).ToArray();
        Assert.Equal(Reference(big), Via(big, wide: false));
        Assert.Equal(Reference(big), Via(big, wide: true));
        Gen.Byte.Array[0, 70000].Sample(data => Via(data, false) == Reference(data) && Via(data, true) == Reference(data), iter: 300);
    }

    [Fact]
    public void Partial_sums_of_even_sized_pieces_add_up()
    {
        Gen.Select(Gen.Byte.Array[0, 600], Gen.Int[0, 300]).Sample((data, cut) =>
        {
            int c = Math.Min(cut * 2, data.Length & ~1);
            return Checksum.Fold(Checksum.Sum(data.AsSpan(c), Checksum.Sum(data.AsSpan(0, c)))) ==
                   Checksum.Fold(Checksum.Sum(data));
        });
    }

    [Fact]
    public void Pseudo_header_matches_packetdotnet_tcp_checksum()
    {
        var p = TestPackets.Tcp(1, TestPackets.Payload(333));
        Assert.True(Tcp.ChecksumValid(p));
        p[^1] ^= 0x40;
        Assert.False(Tcp.ChecksumValid(p));
    }
}
