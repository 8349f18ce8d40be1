using Flannel.Demo;
using Xunit;

namespace Flannel.Demo.Tests;

public sealed class ProcessRunnerTests
{
    [Fact]
    public void A_child_that_exits_without_reading_its_stdin_reports_its_own_exit_code_and_stderr()
    {
        // 1 MiB is more than a pipe holds, so the write meets the closed end whatever the timing (a refused socat did
        // this to the CI run: its connect failed before the runner wrote the request).
        var input = new string('x', 1 << 20);

        var r = ProcessRunner.Run("sh", ["-c", "exec 0<&-; echo refused >&2; exit 3"], TimeSpan.FromSeconds(20), input);

        Assert.Equal(3, r.ExitCode);
        Assert.StartsWith("refused\n", r.Stderr);
        Assert.Contains("(stdin not fully written:", r.Stderr);
    }

    [Fact]
    public void A_child_that_reads_its_stdin_gets_all_of_it()
    {
        var input = new string('x', 1 << 20) + "\n";

        var r = ProcessRunner.Run("wc", ["-c"], TimeSpan.FromSeconds(20), input);

        Assert.True(r.Ok, r.Stderr);
        Assert.Equal($"{input.Length}", r.Stdout.Trim());
        Assert.Equal("", r.Stderr);
    }
}
