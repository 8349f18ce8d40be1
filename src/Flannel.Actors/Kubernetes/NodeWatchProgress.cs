using System.Globalization;
using Akka.Actor;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// How far this actor system's <see cref="NodeWatcherActor"/> has got: Nodes known, changes applied by outcome, and the
/// resourceVersion of the last change applied. Read at scrape time for /metrics (the watcher starts before the metrics
/// exist, so recording events would lose the initial list); compared with the API server's resourceVersion it says how
/// far behind the watch is. One writer (the watcher), any number of readers: one immutable snapshot, swapped.
/// </summary>
public sealed class NodeWatchProgress : IExtension
{
    private Snapshot? _current;

    /// <param name="Nodes">Nodes the watcher knows.</param>
    /// <param name="ResourceVersion">resourceVersion of the last change applied; 0 when not numeric (a real API server's
    /// is an etcd revision, so it is).</param>
    /// <param name="Unchanged">Changes to nothing flannel reads (labels, kubelet status).</param>
    /// <param name="Lists">Complete (re)lists applied.</param>
    /// <param name="LastListAt">When the last complete (re)list had been applied (every listed Node known).</param>
    /// <param name="LastListTook">From asking for its first page until every change it found had been applied.</param>
    public sealed record Snapshot(long Nodes, long ResourceVersion, long Added, long Updated, long Unchanged, long Deleted, long Lists,
        DateTimeOffset? LastListAt, TimeSpan? LastListTook)
    {
        public static readonly Snapshot Empty = new(0, 0, 0, 0, 0, 0, 0, null, null);

        public long Changes => Added + Updated + Unchanged + Deleted;
    }

    public static NodeWatchProgress Get(ActorSystem system) => system.WithExtension<NodeWatchProgress, NodeWatchProgressProvider>();

    /// <summary>Null until a node watcher has started in this actor system (outside Kubernetes mode: always).</summary>
    public Snapshot? Current => Volatile.Read(ref _current);

    internal void Started() => Volatile.Write(ref _current, Current ?? Snapshot.Empty);

    internal void Applied(NodeChangeOutcome outcome, int nodes, string? resourceVersion)
    {
        var s = Current ?? Snapshot.Empty;
        s = outcome switch
        {
            NodeChangeOutcome.Added => s with { Added = s.Added + 1 },
            NodeChangeOutcome.Updated => s with { Updated = s.Updated + 1 },
            NodeChangeOutcome.Unchanged => s with { Unchanged = s.Unchanged + 1 },
            _ => s with { Deleted = s.Deleted + 1 },
        };
        var version = long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
        Volatile.Write(ref _current, s with { Nodes = nodes, ResourceVersion = version });
    }

    internal void Listed(int nodes, TimeSpan took)
    {
        var s = Current ?? Snapshot.Empty;
        Volatile.Write(ref _current, s with { Nodes = nodes, Lists = s.Lists + 1, LastListAt = DateTimeOffset.UtcNow, LastListTook = took });
    }
}

/// <summary>What one Node change did to the watcher's view (the outcome label of flannel_kube_node_events_total).</summary>
public enum NodeChangeOutcome { Added, Updated, Unchanged, Deleted }

public sealed class NodeWatchProgressProvider : ExtensionIdProvider<NodeWatchProgress>
{
    public override NodeWatchProgress CreateExtension(ExtendedActorSystem system) => new();
}
