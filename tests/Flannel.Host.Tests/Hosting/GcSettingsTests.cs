using Flannel.Host.Hosting;
using Xunit;

namespace Flannel.Host.Tests.Hosting;

public class GcSettingsTests
{
    [Fact]
    public void Describes_the_footprint_settings_from_the_runtime_report()
    {
        var vars = new Dictionary<string, object>
        {
            ["ServerGC"] = false, ["ConcurrentGC"] = false, ["GCRegionSize"] = 1048576L, ["GCGen0MaxBudget"] = 2097152L,
        };
        Assert.Equal("server False, concurrent False, region size 1024 KiB, gen0 budget at most 2048 KiB", GcSettings.Describe(vars));
    }

    [Fact]
    public void A_setting_left_at_zero_is_the_runtime_default_and_a_missing_one_is_unknown()
    {
        var vars = new Dictionary<string, object> { ["ServerGC"] = true, ["GCRegionSize"] = 0L };
        Assert.Equal("server True, concurrent ?, region size default, gen0 budget at most ?", GcSettings.Describe(vars));
    }

    [Fact]
    public void The_running_runtime_reports_every_key_the_line_names()
    {
        // A runtime that renames a key would turn the agent's line into "?": this process's GC is asked the same way.
        Assert.DoesNotContain("?", GcSettings.Describe());
    }
}
