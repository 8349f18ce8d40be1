using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Flannel.Demo;

/// <summary>
/// What every demo prints and the frame it runs in: numbered steps with the time since start, Ctrl-C/SIGTERM cancel the
/// steps (exit 130), an expected failure prints its reason and the demo's one-line summary (exit 1), and the clean-up
/// runs in every case, so no namespace or process outlives a demo.
/// </summary>
public sealed class DemoScript(TextWriter output, int steps, string title)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _step;

    public string Elapsed => _clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    public void Step(string what)
    {
        _step++;
        output.WriteLine($"demo: [{_step}/{steps}] {what} ({Elapsed})");
    }

    public void Line(string text) => output.WriteLine(text);

    /// <summary>The demo's last line: "demo: {title}, {result}".</summary>
    public void Summary(string result) => output.WriteLine($"demo: {title}, {result}");

    /// <summary>Runs <paramref name="body"/> and returns its exit code; <paramref name="cleanup"/> runs afterwards whatever happened.</summary>
    public int Run(Func<CancellationToken, int> body, Action cleanup)
    {
        // Not disposed: a signal handler still running when the registrations are disposed would cancel a disposed
        // source and end the process (as it did flanneld, Program.cs).
        var cts = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; cts.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
        try
        {
            return body(cts.Token);
        }
        catch (OperationCanceledException)
        {
            output.WriteLine("demo: interrupted; cleaning up");
            return 130;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"demo: failed: {e.Message}");
            Summary("failed");
            return 1;
        }
        finally
        {
            cleanup();
        }
    }
}
