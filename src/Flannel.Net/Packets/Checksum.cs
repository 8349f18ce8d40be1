using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flannel.Net.Packets;

/// <summary>
/// The Internet checksum (RFC 1071). Partial sums are 32-bit values in network-order terms, i.e. the sum of the
/// big-endian 16-bit words, so they can be added together and folded at the end.
/// </summary>
public static class Checksum
{
    /// <summary>Adds the bytes of <paramref name="data"/> (an even offset in the checksummed region) to <paramref name="initial"/>.</summary>
    // Fully optimized from the first call: at tier 0 the vector code is a chain of helper calls, ~50x slower than
    // the scalar loop, and an agent that keeps JIT-compiling (Akka, hosting) can stay at tier 0 for many seconds (the
    // demo's udp throughput fell from 2.9 to 0.46 Gbit/s that way while the standalone tunnel was unaffected).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        // Summing native-order words and swapping once at the end is equivalent (RFC 1071 byte-order independence).
        ulong sum = 0;
        ref byte p = ref MemoryMarshal.GetReference(data);
        int len = data.Length;
        int i = 0;
        // The NativeAOT agent is compiled for x86-64-v2 (no AVX2: Vector256 is not accelerated there, the checks are
        // constants, not run-time tests), so it takes the 128-bit path; the JIT picks the 256-bit one where the CPU has it.
        if (len >= 64)
        {
            if (Vector256.IsHardwareAccelerated) { sum = SumVector(ref p, len); i = len & ~63; }
            else if (Vector128.IsHardwareAccelerated) { sum = SumVector128(ref p, len); i = len & ~63; }
        }
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
        return initial + Reduce(sum);
    }

    /// <summary>A 64-bit sum of native-order words folded to 16 bits, as the big-endian partial sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Reduce(ulong sum)
    {
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffffffff) + (sum >> 32);
        uint s32 = (uint)sum;
        s32 = (s32 & 0xffff) + (s32 >> 16);
        s32 = (s32 & 0xffff) + (s32 >> 16);
        ushort native = (ushort)s32;
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(native) : native;
    }

    /// <summary>
    /// The bulk of <see cref="Sum"/>, 64 bytes per step: the 16-bit words are added into 32-bit lanes (low and high
    /// halves separately), which cannot overflow within a 1 MB block; each block is widened into the 64-bit total.
    /// About 3.5x the scalar loop here (35 vs 10 GB/s), which matters because every forwarded byte is summed once on
    /// each side of the tunnel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ulong SumVector(ref byte p, int len)
    {
        const nuint Block = 1 << 20;
        ulong sum = 0;
        var mask = Vector256.Create(0xffffu);
        // The index is a local (not the caller's by ref): a by-ref index lived in memory, a store and reload per step.
        nuint i = 0, whole = (nuint)(len & ~63);
        while (i < whole)
        {
            nuint end = Math.Min(whole, i + Block);
            var lo = Vector256<uint>.Zero;
            var hi = Vector256<uint>.Zero;
            for (; i < end; i += 64)
            {
                var v0 = Vector256.LoadUnsafe(ref p, i).AsUInt32();
                var v1 = Vector256.LoadUnsafe(ref p, i + 32).AsUInt32();
                lo += (v0 & mask) + (v1 & mask);
                hi += Vector256.ShiftRightLogical(v0, 16) + Vector256.ShiftRightLogical(v1, 16);
            }
            var (a, b) = Vector256.Widen(lo);
            var (c, d) = Vector256.Widen(hi);
            sum += Vector256.Sum(a + b + c + d);
        }
        return sum;
    }

    /// <summary>
    /// <see cref="SumVector"/> with 128-bit vectors (SSE2 on every x86-64, AdvSimd on arm64), for the NativeAOT agent:
    /// 64 bytes per step in two independent lane sets, so each 32-bit lane still takes two 16-bit words per step and a
    /// 1 MB block cannot overflow it. Without it the AOT agent summed with the scalar loop, its hottest code under iperf3
    /// (bench/footprint/throughput.md, AOT udp data path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ulong SumVector128(ref byte p, int len)
    {
        const nuint Block = 1 << 20;
        ulong sum = 0;
        var mask = Vector128.Create(0xffffu);
        // The index is a local (not the caller's by ref): a by-ref index lived in memory, a store and reload per step.
        nuint i = 0, whole = (nuint)(len & ~63);
        while (i < whole)
        {
            nuint end = Math.Min(whole, i + Block);
            var lo0 = Vector128<uint>.Zero;
            var hi0 = Vector128<uint>.Zero;
            var lo1 = Vector128<uint>.Zero;
            var hi1 = Vector128<uint>.Zero;
            for (; i < end; i += 64)
            {
                var v0 = Vector128.LoadUnsafe(ref p, i).AsUInt32();
                var v1 = Vector128.LoadUnsafe(ref p, i + 16).AsUInt32();
                var v2 = Vector128.LoadUnsafe(ref p, i + 32).AsUInt32();
                var v3 = Vector128.LoadUnsafe(ref p, i + 48).AsUInt32();
                lo0 += (v0 & mask) + (v1 & mask);
                hi0 += Vector128.ShiftRightLogical(v0, 16) + Vector128.ShiftRightLogical(v1, 16);
                lo1 += (v2 & mask) + (v3 & mask);
                hi1 += Vector128.ShiftRightLogical(v2, 16) + Vector128.ShiftRightLogical(v3, 16);
            }
            var (a, b) = Vector128.Widen(lo0);
            var (c, d) = Vector128.Widen(hi0);
            var (e, f) = Vector128.Widen(lo1);
            var (g, h) = Vector128.Widen(hi1);
            sum += Vector128.Sum(a + b + c + d + e + f + g + h);
        }
        return sum;
    }

    /// <summary>Folds a partial sum to 16 bits (not inverted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(uint sum)
    {
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The final checksum field value: the complement of the folded sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Finish(uint sum) => (ushort)~Fold(sum);

    /// <summary>The TCP/UDP pseudo-header sum for IPv4 (addresses in host order, as read big-endian).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint PseudoHeader(uint src, uint dst, byte protocol, int l4Length) =>
        (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + protocol + (uint)l4Length;
}
