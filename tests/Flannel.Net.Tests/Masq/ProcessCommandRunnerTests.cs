using System.Diagnostics;
using Flannel.Net.Masq;
using Xunit;

namespace Flannel.Net.Tests.Masq;

public class ProcessCommandRunnerTests
{
    private const string Script = "cat; echo err >&2; exit 3";

    [Fact]
    public async Task RunAsync_returns_what_Run_returns_stdin_in_stdout_and_stderr_and_the_exit_code()
    {
        var runner = new ProcessCommandRunner();
        var sync = runner.Run("sh", ["-c", Script], "in\n");
        var async = await runner.RunAsync("sh", ["-c", Script], "in\n");
        Assert.Equal(new CommandResult(3, "in\n", "err\n"), async);
        Assert.Equal(sync, async);
    }

    [Fact]
    public async Task RunAsync_reads_output_larger_than_a_pipe_holds()
    {
        // 1 MiB on stdout and on stderr: both are read while the program runs, or it would block on a full pipe.
        var r = await new ProcessCommandRunner().RunAsync("sh", ["-c", "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2"]);
        Assert.Equal((0, 1 << 20, 1 << 20), (r.ExitCode, r.Stdout.Length, r.Stderr.Length));
    }

    [Fact]
    public async Task RunAsync_kills_a_program_that_outlives_the_timeout()
    {
        var runner = new ProcessCommandRunner(timeout: TimeSpan.FromMilliseconds(300));
        var took = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(() => runner.RunAsync("sleep", ["30"]));
        Assert.Contains("sleep 30", e.Message);
        Assert.True(took.Elapsed < TimeSpan.FromSeconds(10), $"took {took.Elapsed}");
    }
}
