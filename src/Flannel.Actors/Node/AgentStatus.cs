using Flannel.Actors.Leases;

namespace Flannel.Actors.Node;

/// <summary>
/// One immutable picture of the agent: what the start sequence has reached and how the reconcile loop is doing.
/// The actors publish new pictures; health endpoints, ctl and metrics read <see cref="AgentStatus.Current"/>.
/// </summary>
public sealed record AgentState
{
    public required string NodeName { get; init; }
    public string? PublicIp { get; init; }
    public string? BackendType { get; init; }
    public DateTimeOffset Started { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>This node's lease; null until acquired.</summary>
    public Lease? Lease { get; init; }
    public bool BackendPrepared { get; init; }
    public bool BackendConfigured { get; init; }
    public bool SubnetEnvWritten { get; init; }
    /// <summary>ip-masq rules in place (true when --ip-masq is off: nothing to do).</summary>
    public bool MasqApplied { get; init; }

    /// <summary>The replicated lease table as last seen (expired leases included until collected).</summary>
    public IReadOnlyList<Lease> Leases { get; init; } = [];
    /// <summary>Peers the kernel should hold (other nodes' unexpired leases).</summary>
    public int PeersDesired { get; init; }
    /// <summary>Lease table entries refused as peers (outside Network, bad public IP, overlaps...), with the reason.</summary>
    public IReadOnlyList<Flannel.Net.Backends.RejectedPeer> RejectedLeases { get; init; } = [];
    /// <summary>Peers programmed from Kubernetes annotations (Nodes outside our cluster, e.g. on upstream flannel), with their node.</summary>
    public IReadOnlyList<Routes.ForeignPeer> ForeignPeers { get; init; } = [];
    /// <summary>Peers the last successful reconcile programmed.</summary>
    public int PeersProgrammed { get; init; }
    /// <summary>The last reconcile covered the current desired set and reported no error.</summary>
    public bool PeersInSync { get; init; }
    public long ReconcileRuns { get; init; }
    /// <summary>Kernel objects changed by reconcile passes in total.</summary>
    public long Repairs { get; init; }
    /// <summary>Repairs of drift: changes made although the desired set had not changed (someone or something altered the kernel).</summary>
    public long DriftRepairs { get; init; }
    public DateTimeOffset? LastReconcile { get; init; }
    public IReadOnlyList<string> LastErrors { get; init; } = [];

    /// <summary>
    /// Why this node is cut off from the cluster's majority (no majority reachable, or removed and rejoining as a new
    /// incarnation); null while it is a member of the majority. The data plane keeps forwarding meanwhile.
    /// </summary>
    public string? Partitioned { get; init; }

    /// <summary>Why the agent gave up (it exits non-zero); null while healthy.</summary>
    public string? Fatal { get; init; }

    /// <summary>flannel's readiness: lease held, backend up, subnet.env written, every known peer programmed.</summary>
    public bool Ready => NotReadyReasons.Count == 0;

    public IReadOnlyList<string> NotReadyReasons
    {
        get
        {
            var reasons = new List<string>();
            if (Fatal is not null) reasons.Add($"failed: {Fatal}");
            if (Partitioned is not null) reasons.Add($"partitioned: {Partitioned}");
            if (Lease is null) reasons.Add("no lease yet");
            if (!BackendConfigured) reasons.Add("backend not configured");
            if (!SubnetEnvWritten) reasons.Add("subnet.env not written");
            if (!MasqApplied) reasons.Add("ip-masq rules not applied");
            if (!PeersInSync) reasons.Add($"peers not programmed ({PeersProgrammed}/{PeersDesired})");
            return reasons;
        }
    }
}

/// <summary>The agent's current <see cref="AgentState"/>, safe to read from any thread.</summary>
public sealed class AgentStatus(string nodeName)
{
    private AgentState _current = new() { NodeName = nodeName };
    private readonly TaskCompletionSource<string> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AgentState Current => Volatile.Read(ref _current);

    /// <summary>Completes with the reason when the agent fails for good (lease lost, backend broken).</summary>
    public Task<string> Failed => _failed.Task;

    /// <summary>
    /// Raised on the updating thread each time the state turns ready (first readiness, and again after a rejoin or a
    /// backend switch made it not ready for a while). Handlers must return at once (hand work to a task).
    /// </summary>
    public event Action? BecameReady;

    public void Update(Func<AgentState, AgentState> change)
    {
        AgentState seen, next;
        do
        {
            seen = Volatile.Read(ref _current);
            next = change(seen);
        }
        while (!ReferenceEquals(Interlocked.CompareExchange(ref _current, next, seen), seen));
        if (BecameReady is { } handler && next.Ready && !seen.Ready) handler();
    }

    public void Fail(string reason)
    {
        Update(s => s with { Fatal = s.Fatal ?? reason });
        _failed.TrySetResult(reason);
    }
}
