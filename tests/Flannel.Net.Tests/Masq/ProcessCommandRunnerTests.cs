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
    // 1 MiB is more than a pipe holds, so the write meets the closed end whatever the timing.
    private static readonly string MoreThanAPipe = new('x', 1 << 20);

    [Fact]
    public async Task A_program_that_exits_before_reading_its_input_is_reported_with_its_own_exit_code_and_stderr()
    {
        var runner = new ProcessCommandRunner();
        const string failsEarly = "exec 0<&-; echo 'iptables-restore: line 1 failed' >&2; exit 1";

        var sync = runner.Run("sh", ["-c", failsEarly], MoreThanAPipe);
        var async = await runner.RunAsync("sh", ["-c", failsEarly], MoreThanAPipe);

        foreach (var r in new[] { sync, async })
        {
            Assert.Equal(1, r.ExitCode);
            Assert.Matches(@"^iptables-restore: line 1 failed\n\(stdin not fully written: .+; the program exited before reading it\)\n$", r.Stderr);
        }
        var e = Assert.Throws<InvalidOperationException>(() => runner.RunChecked("restore rules", "sh", ["-c", failsEarly], MoreThanAPipe));
        Assert.Contains("iptables-restore: line 1 failed", e.Message);
    }

    [Fact]
    public async Task A_program_that_exits_0_without_reading_its_input_is_an_error_not_a_success()
    {
        var runner = new ProcessCommandRunner();

        var sync = Assert.Throws<InvalidOperationException>(() => runner.Run("sh", ["-c", "exec 0<&-; exit 0"], MoreThanAPipe));
        var async = await Assert.ThrowsAsync<InvalidOperationException>(() => runner.RunAsync("sh", ["-c", "exec 0<&-; exit 0"], MoreThanAPipe));

        foreach (var e in new[] { sync, async })
            Assert.StartsWith("`sh -c exec 0<&-; exit 0` exited 0 without reading all its input (stdin not fully written: ", e.Message);
    }
}
