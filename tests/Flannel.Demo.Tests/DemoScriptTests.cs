using Flannel.Demo;
using Xunit;

namespace Flannel.Demo.Tests;

public sealed class DemoScriptTests
{
    [Fact]
    public void Steps_are_numbered_and_the_body_s_exit_code_is_returned_after_the_cleanup()
    {
        var output = new StringWriter();
        var script = new DemoScript(output, steps: 2, "3 hosts, backend udp");
        var cleaned = 0;

        var code = script.Run(_ =>
        {
            script.Step("first");
            script.Step("second");
            script.Summary("6/6 pod pairs reachable");
            return 0;
        }, () => cleaned++);

        Assert.Equal(0, code);
        Assert.Equal(1, cleaned);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("demo: [1/2] first (", lines[0]);
        Assert.StartsWith("demo: [2/2] second (", lines[1]);
        Assert.Equal("demo: 3 hosts, backend udp, 6/6 pod pairs reachable", lines[2]);
    }

    [Fact]
    public void An_expected_failure_prints_its_reason_and_the_failed_summary_exits_1_and_still_cleans_up()
    {
        var output = new StringWriter();
        var script = new DemoScript(output, steps: 1, "3 hosts, kube mode");
        var cleaned = 0;

        var code = script.Run(_ => throw new TimeoutException("agents not ready after 90 s"), () => cleaned++);

        Assert.Equal(1, code);
        Assert.Equal(1, cleaned);
        Assert.Equal("demo: failed: agents not ready after 90 s\ndemo: 3 hosts, kube mode, failed\n", output.ToString().Replace("\r", ""));
    }

    [Fact]
    public void An_interrupt_exits_130_and_cleans_up()
    {
        var output = new StringWriter();
        var cleaned = 0;

        var code = new DemoScript(output, steps: 1, "t").Run(_ => throw new OperationCanceledException(), () => cleaned++);

        Assert.Equal(130, code);
        Assert.Equal(1, cleaned);
        Assert.Contains("demo: interrupted; cleaning up", output.ToString());
    }

    [Fact]
    public void An_unexpected_exception_is_not_swallowed_but_the_cleanup_still_runs()
    {
        var cleaned = 0;

        Assert.Throws<NullReferenceException>(() =>
            new DemoScript(new StringWriter(), steps: 1, "t").Run(_ => throw new NullReferenceException(), () => cleaned++));

        Assert.Equal(1, cleaned);
    }
}
