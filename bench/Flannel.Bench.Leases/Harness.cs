using System.Globalization;

namespace Flannel.Bench.Leases;

/// <summary>
/// Settings of the in-process harness that depend on N. All N nodes share one process and this machine's cores, so
/// membership traffic that costs a real agent nothing (each has its own CPU) adds up here: at N = 50 with the 200 ms
/// cluster gossip that suits 20 nodes, the process fell behind (heartbeats queued for seconds, members unreachable,
/// joins never converged; see bench/leases/RESULTS.md). Above 20 nodes the harness uses Akka's default 1 s gossip
/// (the agent's too) and a failure detector that tolerates the stalls one shared process has: a GC or a starved core
/// stalls every node at once, which a real node failure never does. The lease layer's own settings are unchanged.
/// </summary>
public static class Harness
{
    public static int GossipMs(int n) => n <= 20 ? 200 : 1000;

    public static int PauseS(int n) => n <= 20 ? 5 : 30;

    /// <summary>
    /// A node's pause before retrying a refused or failed claim: 200 ms keeps small runs quick; above 20 nodes the
    /// agent's own 2 s (LeaseOptions.RetryInterval): with 100 nodes retrying every 200 ms while the first majority
    /// round was still running, the retries (refused by the per-sender cap, answered, retried) added to the overload.
    /// </summary>
    public static int RetryMs(int n) => n <= 20 ? 200 : 2000;

    /// <summary>The agent's 3 s (LeaseConfig) above 20 nodes; 2 s below, as the bench always used.</summary>
    public static int MajorityTimeoutS(int n) => n <= 20 ? 2 : 3;

    /// <summary>How long one node's acquire (and the whole convergence) may take before the run counts as failed.</summary>
    public const int AcquireTimeoutS = 90;

    /// <summary>
    /// The gen0 budget the runtime was started with (bench/leases.sh sets DOTNET_GCgen0size; "default" if not): one
    /// heap for all N nodes made GC pauses 25-48 % of the run at 50-100 nodes with the default budget.
    /// </summary>
    public static string Gen0Budget() => Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is { Length: > 0 } v ? v : "default";

    /// <summary>The 1-minute load average, so results say how busy the machine was (others share these cores).</summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }
}
