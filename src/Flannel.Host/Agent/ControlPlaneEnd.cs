namespace Flannel.Host.Agent;

/// <summary>What the agent does when its wait ends (signal, failure, or the actor system terminated).</summary>
public enum ControlPlaneEnd
{
    /// <summary>Our own stop (SIGTERM/SIGINT), or a leave an operator asked for (`ctl cluster leave`): exit 0.</summary>
    Stop,
    /// <summary>An unrecoverable local error (lease lost for good, backend broken): exit 1.</summary>
    Fail,
    /// <summary>The actor system ended without our stop (downed by the split-brain resolver, removed, a transport
    /// failure): keep the data plane, start a new incarnation that rejoins.</summary>
    Rejoin,
}

/// <summary>
/// The one rule for "is this termination ours?". The process exits on its own stop, on a graceful leave (a member only
/// leaves when someone asks it to: `flanneld ctl cluster leave`, on this node or another) or on an unrecoverable local
/// error; every other end of the actor system (a downing decision by the split-brain resolver, Akka stopping a node
/// after a transport failure) is the network's doing and is survived.
/// </summary>
public static class ControlPlaneEndJudge
{
    /// <param name="stopRequested">SIGTERM/SIGINT arrived (the runner's cancellation token).</param>
    /// <param name="failed">The agent reported an unrecoverable error (AgentStatus.Failed).</param>
    /// <param name="clrExit">The actor system ran CoordinatedShutdown for the process exit (Akka's own SIGTERM hook may
    /// run before our token is cancelled): a requested stop, not a downing.</param>
    /// <param name="left">It ran CoordinatedShutdown because this member left the cluster gracefully (Leaving, Exiting,
    /// Removed), which only an explicit leave starts.</param>
    public static ControlPlaneEnd Decide(bool stopRequested, bool failed, bool clrExit, bool left = false)
    {
        if (stopRequested || clrExit) return ControlPlaneEnd.Stop;
        if (failed) return ControlPlaneEnd.Fail;
        return left ? ControlPlaneEnd.Stop : ControlPlaneEnd.Rejoin;
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
