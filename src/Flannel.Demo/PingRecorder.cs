using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Flannel.Demo;

/// <summary>What a continuous ping saw: packets sent and answered, and the longest run of unanswered ones as time.</summary>
public sealed record PingLoss(int Sent, int Received, double LongestGapMs)
{
    public int Lost => Sent - Received;
    public double LossPercent => Sent == 0 ? 0 : 100.0 * Lost / Sent;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Lost}/{Sent} lost ({LossPercent:0.0}%), longest gap {LongestGapMs:0} ms");
}

/// <summary>
/// A ping from a pod to another pod running in the background (interval <paramref name="interval"/>), to measure how
/// long connectivity breaks during a backend switch. <see cref="Stop"/> ends it (SIGINT) and reports the loss.
/// </summary>
public sealed partial class PingRecorder : IDisposable
{
    private readonly Process _process;
    private readonly List<int> _answered = [];
    private readonly TimeSpan _interval;
    private int _highestSeq;

    private PingRecorder(Process process, TimeSpan interval)
    {
        _process = process;
        _interval = interval;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            var m = Reply().Match(e.Data);
            if (m.Success) lock (_answered) _answered.Add(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            var n = NoAnswer().Match(e.Data);
            if (n.Success) lock (_answered) _highestSeq = Math.Max(_highestSeq, int.Parse(n.Groups[1].Value, CultureInfo.InvariantCulture));
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static PingRecorder Start(Pod from, Pod to, TimeSpan? interval = null)
    {
        var every = interval ?? TimeSpan.FromMilliseconds(50);
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // -O prints the sequence numbers that got no answer, so the end of the run counts even when replies stop.
        foreach (var a in new[] { "netns", "exec", from.Namespace, "ping", "-O", "-n", "-W", "1",
                     "-i", (every.TotalMilliseconds / 1000).ToString("0.###", CultureInfo.InvariantCulture), to.Address.ToString() })
            psi.ArgumentList.Add(a);
        return new PingRecorder(Process.Start(psi) ?? throw new InvalidOperationException("cannot start ping"), every);
    }

    /// <summary>Stops the ping and computes the loss over every sequence number sent.</summary>
    public PingLoss Stop()
    {
        if (!_process.HasExited)
        {
            ProcessRunner.Run("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            if (!_process.WaitForExit(5000)) _process.Kill();
        }
        _process.WaitForExit();
        lock (_answered)
        {
            var answered = _answered.ToHashSet();
            var sent = Math.Max(_highestSeq, answered.Count == 0 ? 0 : answered.Max());
            var longest = 0;
            var run = 0;
            for (var seq = 1; seq <= sent; seq++)
            {
                run = answered.Contains(seq) ? 0 : run + 1;
                longest = Math.Max(longest, run);
            }
            var received = answered.Count(s => s <= sent);
            return new PingLoss(sent, received, longest * _interval.TotalMilliseconds);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.Dispose();
    }

    [GeneratedRegex(@"icmp_seq=(\d+) ttl=")]
    private static partial Regex Reply();

    [GeneratedRegex(@"no answer yet for icmp_seq=(\d+)")]
    private static partial Regex NoAnswer();
}
