using System.Runtime.InteropServices;

namespace Flannel.Net.Memory;

/// <summary>What <see cref="StartupPages.Release"/> did: the executable's mappings it advised and their size.</summary>
public sealed record StartupPagesReleased(string Executable, int Mappings, ulong Bytes, long ResidentKiBBefore, long ResidentKiBAfter, string? Error);

/// <summary>
/// Gives back the executable's start-up-only pages once the agent runs. A NativeAOT flanneld maps ~45 MiB of its own
/// executable (code, read-only data, the runtime's type data) by the time it is ready, most of it touched only by
/// start-up (configuration, TLS, the actor system's construction) or mapped by the kernel's fault-around (up to 16 pages
/// around each touched page) and read-ahead (32 pages around each page read from disk). MADV_PAGEOUT reclaims the clean
/// pages this process alone maps (pages another process maps are left alone by the kernel); MADV_RANDOM then turns off
/// read-ahead for these mappings, so a page touched again comes back alone: the steady working set faults back in once
/// and stays. Fault-around still maps neighbours that are in the page cache, which after the page-out are few.
/// Measured with bench/footprint.sh (bench/footprint/RESULTS.md, 2026-12-01 "Fifth session"). Anonymous pages (the
/// executable's written data) are not affected without swap; with swap the kernel may swap them, as it could anyway.
/// </summary>
public static class StartupPages
{
    private const int MADV_RANDOM = 1, MADV_PAGEOUT = 21;

    public static StartupPagesReleased Release()
    {
        string exe;
        IReadOnlyList<MemoryMapping> mappings;
        try
        {
            exe = File.ResolveLinkTarget("/proc/self/exe", returnFinalTarget: false)?.FullName ?? "/proc/self/exe";
            mappings = ExecutableMappings.Of(File.ReadAllText("/proc/self/maps"), exe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return new StartupPagesReleased("/proc/self/exe", 0, 0, -1, -1, e.Message);
        }
        var before = ResidentKiB();
        string? error = null;
        ulong bytes = 0;
        foreach (var m in mappings)
        {
            bytes += m.Length;
            // EINVAL from a kernel before 5.4 (no MADV_PAGEOUT) or a locked mapping: nothing given back, nothing broken.
            if (madvise((nint)m.Start, (nuint)m.Length, MADV_PAGEOUT) != 0)
                error ??= $"madvise(MADV_PAGEOUT) at 0x{m.Start:x}: errno {Marshal.GetLastPInvokeError()}";
            if (madvise((nint)m.Start, (nuint)m.Length, MADV_RANDOM) != 0)
                error ??= $"madvise(MADV_RANDOM) at 0x{m.Start:x}: errno {Marshal.GetLastPInvokeError()}";
        }
        return new StartupPagesReleased(exe, mappings.Count, bytes, before, ResidentKiB(), error);
    }

    /// <summary>VmRSS of this process in KiB (-1 when /proc is not readable).</summary>
    public static long ResidentKiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        return -1;
    }

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int madvise(nint addr, nuint length, int advice);
}
