using System.Runtime.InteropServices;

namespace Flannel.Net.Memory;

/// <summary>
/// Zero-filled anonymous memory straight from the kernel (mmap), for the udp data path's large packet buffers. Its pages
/// become resident only when first written, so a queue's receive buffers (32 x 64 KiB per queue with GRO) cost no RSS
/// until datagrams fill them. The earlier allocate-and-clear touched every page at start: an idle udp agent held ~4 MiB
/// more than a vxlan one for buffers it had not used (bench/footprint/RESULTS.md, 2026-12-01).
/// </summary>
public static unsafe class ZeroedPages
{
    private const int PROT_READ = 0x1, PROT_WRITE = 0x2, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MADV_DONTNEED = 4;

    /// <summary>Maps <paramref name="bytes"/> of zeroed memory (page-aligned, so also 64-byte aligned).</summary>
    public static void* Map(nuint bytes)
    {
        if (bytes == 0) throw new ArgumentOutOfRangeException(nameof(bytes), "a mapping needs at least one byte");
        var p = mmap(null, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == (void*)-1)
            throw new OutOfMemoryException($"mmap of {bytes} bytes for packet buffers failed: errno {Marshal.GetLastPInvokeError()}");
        return p;
    }

    public static void Unmap(void* p, nuint bytes)
    {
        if (munmap(p, bytes) != 0)
            throw new InvalidOperationException($"munmap of {bytes} bytes at 0x{(nint)p:x} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>
    /// Gives the pages of a <see cref="Map"/>ped range back to the kernel: they read as zeros again and are resident only
    /// once written. Only for memory whose contents are not needed any more (a queue's packet buffers between bursts).
    /// </summary>
    public static void Release(void* p, nuint bytes)
    {
        if (madvise(p, bytes, MADV_DONTNEED) != 0)
            throw new InvalidOperationException($"madvise(MADV_DONTNEED) of {bytes} bytes at 0x{(nint)p:x} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int madvise(void* addr, nuint length, int advice);

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static extern void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static extern int munmap(void* addr, nuint length);
}
