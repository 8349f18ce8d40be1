using Flannel.Net.Memory;
using Xunit;

namespace Flannel.Net.Tests.Memory;

public unsafe class ZeroedPagesTests
{
    private const int Bytes = 2 << 20;

    [Fact]
    public void A_mapping_is_zeroed_and_page_aligned()
    {
        var p = (byte*)ZeroedPages.Map(Bytes);
        try
        {
            Assert.Equal(0, (nint)p % 4096);
            Assert.True(new ReadOnlySpan<byte>(p, Bytes).IndexOfAnyExcept((byte)0) < 0, "a fresh mapping holds a non-zero byte");
        }
        finally
        {
            ZeroedPages.Unmap(p, Bytes);
        }
    }

    [Fact]
    public void Its_pages_become_resident_only_when_written()
    {
        var p = (byte*)ZeroedPages.Map(Bytes);
        try
        {
            Assert.Equal(0, ResidentKiB(p));
            for (int i = 0; i < Bytes / 2; i += 4096) p[i] = 1;
            Assert.Equal(Bytes / 2 / 1024, ResidentKiB(p));
        }
        finally
        {
            ZeroedPages.Unmap(p, Bytes);
        }
    }

    [Fact]
    public void Released_pages_leave_residence_and_read_as_zeros_but_stay_usable()
    {
        var p = (byte*)ZeroedPages.Map(Bytes);
        try
        {
            new Span<byte>(p, Bytes).Fill(0xAB);
            Assert.Equal(Bytes / 1024, ResidentKiB(p));
            ZeroedPages.Release(p, Bytes);
            Assert.Equal(0, ResidentKiB(p));
            p[4096] = 7;
            Assert.Equal(4, ResidentKiB(p));
            // Read after the residence checks: reading maps the kernel's shared zero page, which mincore may count.
            Assert.Equal(7, p[4096]);
            p[4096] = 0;
            Assert.True(new ReadOnlySpan<byte>(p, Bytes).IndexOfAnyExcept((byte)0) < 0, "a released page kept its contents");
        }
        finally
        {
            ZeroedPages.Unmap(p, Bytes);
        }
    }

    [Fact]
    public void Releasing_an_address_that_is_not_mapped_says_so()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ZeroedPages.Release((void*)0x1001, 4096));
        Assert.Contains("madvise(MADV_DONTNEED) of 4096 bytes at 0x1001", e.Message);
    }

    [Fact]
    public void Unmapping_an_address_that_is_not_mapped_says_so()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ZeroedPages.Unmap((void*)0x1001, 4096));
        Assert.Contains("munmap of 4096 bytes at 0x1001", e.Message);
    }

    /// <summary>Resident KiB of the mapping at <paramref name="p"/>, page by page (mincore: exact for this range, whatever
    /// the kernel merged it with).</summary>
    private static long ResidentKiB(byte* p)
    {
        var vec = new byte[Bytes / 4096];
        fixed (byte* v = vec)
            Assert.Equal(0, mincore(p, Bytes, v));
        return vec.Count(b => (b & 1) != 0) * 4L;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int mincore(void* addr, nuint length, byte* vec);
}
