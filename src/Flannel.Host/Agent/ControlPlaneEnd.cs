namespace Flannel.Host.Agent;

/// <summary>What the agent does when its wait ends (signal, failure, or the actor system terminated).</summary>
public enum ControlPlaneEnd
{
    /// <summary>Our own stop (SIGTERM/SIGINT): leave the cluster, exit 0.</summary>
    Stop,
    /// <summary>An unrecoverable local error (lease lost for good, backend broken): exit 1.</summary>
    Fail,
    /// <summary>The actor system ended without our stop (downed by the split-brain resolver, removed, a transport
    /// failure): keep the data plane, start a new incarnation that rejoins.</summary>
    Rejoin,
}

/// <summary>
/// The one rule for "is this termination ours?". The process exits only on its own stop or an unrecoverable local
/// error; every other end of the actor system (a downing decision, a removal, Akka stopping a node after a transport
/// failure) is the network's doing and is survived.
/// </summary>
public static class ControlPlaneEndJudge
{
    /// <param name="stopRequested">SIGTERM/SIGINT arrived (the runner's cancellation token).</param>
    /// <param name="failed">The agent reported an unrecoverable error (AgentStatus.Failed).</param>
    /// <param name="clrExit">The actor system ran CoordinatedShutdown for the process exit (Akka's own SIGTERM hook may
    /// run before our token is cancelled): a requested stop, not a downing.</param>
    public static ControlPlaneEnd Decide(bool stopRequested, bool failed, bool clrExit)
    {
        if (stopRequested || clrExit) return ControlPlaneEnd.Stop;
        return failed ? ControlPlaneEnd.Fail : ControlPlaneEnd.Rejoin;
    }
}

/// <summary>
/// Pause before starting the next incarnation of the actor system: short after a long-lived one (a heal must be seen
/// within seconds), doubling when incarnations end soon after they start (a port still bound, a node downed again at
/// once), up to <see cref="Max"/>. Akka itself keeps retrying the join inside a running incarnation, so this only
/// spaces out whole restarts.
/// </summary>
public sealed class RejoinBackoff(TimeSpan first, TimeSpan max, TimeSpan stableAfter)
{
    public static RejoinBackoff Default() => new(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60));

    private TimeSpan _next = first;

    public TimeSpan First { get; } = first;
    public TimeSpan Max { get; } = max;

    /// <param name="lived">How long the incarnation that just ended ran (zero when it could not start).</param>
    public TimeSpan Next(TimeSpan lived)
    {
        if (lived >= stableAfter) _next = First;
        var delay = _next;
        _next = TimeSpan.FromTicks(Math.Min(Max.Ticks, _next.Ticks * 2));
        return delay;
    }
}
