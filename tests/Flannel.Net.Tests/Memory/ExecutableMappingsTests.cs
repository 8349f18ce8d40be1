using Flannel.Net.Memory;
using Xunit;

namespace Flannel.Net.Tests.Memory;

public class ExecutableMappingsTests
{
    // /proc/PID/maps of a NativeAOT flanneld (non-PIE; bench/footprint.sh's copy for host 1, 2026-12-01), shortened to its
    // own seven mappings, the anonymous mapping after them, the heap, libc, another file next to it, the vdso.
    private const string AgentMaps = """
        00400000-00405000 r--p 00000000 fe:00 11829293                           /tmp/tmp.jaN7SmAOkX/copies/h1/flanneld
        00405000-0191c000 r-xp 00005000 fe:00 11829293                           /tmp/tmp.jaN7SmAOkX/copies/h1/flanneld
        0191c000-02331000 r--p 0151c000 fe:00 11829293                           /tmp/tmp.jaN7SmAOkX/copies/h1/flanneld
        02331000-02332000 r--p 01f31000 fe:00 11829293                           /tmp/tmp.jaN7SmAOkX/copies/h1/flanneld
        02332000-02b7e000 r--p 01f32000 fe:00 11829293                           /tmp/tmp.jaN7SmAOkX/copies/h1/flanneld
        02b7e000-02b80000 r--p 0277e000 fe:00 11829293                           /tmp/tmp.jaN7SmAOkX/copies/h1/flanneld
        02b80000-0430e000 rw-p 02780000 fe:00 11829293                           /tmp/tmp.jaN7SmAOkX/copies/h1/flanneld
        0430e000-04400000 rw-p 00000000 00:00 0 
        050a3000-05256000 rw-p 00000000 00:00 0                                  [heap]
        7fa8b94cd000-7fa8b94f3000 r--p 00000000 fe:00 332096                     /usr/lib/x86_64-linux-gnu/libc.so.6
        7fa8b94f3000-7fa8b9649000 r-xp 00026000 fe:00 332096                     /usr/lib/x86_64-linux-gnu/libc.so.6
        7fa8b9650000-7fa8b9652000 r--p 00000000 fe:00 11829294                   /tmp/tmp.jaN7SmAOkX/copies/h1/flanneld-old
        7ffd6b3fd000-7ffd6b3ff000 r-xp 00000000 00:00 0                          [vdso]

        """;

    [Fact]
    public void Finds_every_mapping_of_the_executable_and_nothing_else()
    {
        var m = ExecutableMappings.Of(AgentMaps, "/tmp/tmp.jaN7SmAOkX/copies/h1/flanneld");
        Assert.Equal(7, m.Count);
        Assert.Equal(new MemoryMapping(0x405000, 0x191c000, "r-xp", "/tmp/tmp.jaN7SmAOkX/copies/h1/flanneld"), m[1]);
        Assert.Equal(0x1517000UL, m[1].Length);
        Assert.True(m[6].Writable);
        Assert.False(m[1].Writable);
        Assert.Equal(0x430e000UL - 0x400000UL, m.Aggregate(0UL, (s, x) => s + x.Length));
    }

    [Fact]
    public void A_replaced_executable_is_still_found_by_its_deleted_name()
    {
        const string text = "00400000-00405000 r--p 00000000 fe:00 12 /opt/flannel/flanneld (deleted)\n"
                            + "00405000-00406000 r-xp 00005000 fe:00 12 /opt/flannel/flanneld (deleted)\n";
        Assert.Equal(2, ExecutableMappings.Of(text, "/opt/flannel/flanneld").Count);
    }

    [Fact]
    public void A_path_with_spaces_is_kept_whole_and_anonymous_memory_has_no_path()
    {
        Assert.Equal("/opt/my dir/flanneld", ExecutableMappings.ParseLine("00400000-00405000 r--p 00000000 fe:00 12   /opt/my dir/flanneld").Path);
        Assert.Equal("", ExecutableMappings.ParseLine("042ee000-0431b000 rw-p 00000000 00:00 0 ").Path);
        Assert.Equal("", ExecutableMappings.ParseLine("042ee000-0431b000 rw-p 00000000 00:00 0").Path);
    }

    [Theory]
    [InlineData("not a mapping")]
    [InlineData("00400000 r--p 00000000 fe:00 12 /x")]
    [InlineData("00405000-00400000 r--p 00000000 fe:00 12 /x")]
    [InlineData("0040000g-00405000 r--p 00000000 fe:00 12 /x")]
    [InlineData("00400000-00405000 r-- 00000000 fe:00 12 /x")]
    public void A_line_that_is_not_a_mapping_is_an_error_that_quotes_it(string line)
    {
        var e = Assert.Throws<FormatException>(() => ExecutableMappings.Of(line, "/x"));
        Assert.Contains(line, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_running_process_maps_its_own_executable_with_code_in_it()
    {
        var exe = File.ResolveLinkTarget("/proc/self/exe", false)!.FullName;
        var m = ExecutableMappings.Of(File.ReadAllText("/proc/self/maps"), exe);
        Assert.NotEmpty(m);
        Assert.Contains(m, x => x.Permissions[2] == 'x');
        Assert.All(m, x => Assert.True(x.End > x.Start));
    }

    [Fact]
    public void Releasing_the_start_up_pages_of_this_process_advises_its_executable_and_keeps_it_running()
    {
        var r = StartupPages.Release();
        Assert.Null(r.Error);
        Assert.True(r.Mappings > 0);
        Assert.True(r.ResidentKiBBefore > 0 && r.ResidentKiBAfter > 0);
        // The executable's code (the test host's) runs on after the page-out: what it needs faults back in.
        Assert.True(StartupPages.ResidentKiB() > 0);
    }
}
