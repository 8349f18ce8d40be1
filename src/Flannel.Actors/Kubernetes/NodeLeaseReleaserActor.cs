using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Event;
using Flannel.Actors.Leases;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Feeds Kubernetes node deletions into the cluster: when a Node is deleted (or is missing from a complete re-list),
/// its leases are released cluster-wide (<see cref="ReleaseLease"/>), so every node's route programmer withdraws its
/// routes at once instead of waiting for the lease to expire. Every agent runs one; the allocator treats a second
/// release of the same subnet as done. A lease the deleted node writes again later is released again. When this
/// node's own Node is deleted, <c>onOwnNodeDeleted</c> is called (the agent stops: its pod is going away too).
/// </summary>
public sealed class NodeLeaseReleaserActor : ReceiveActor, IWithTimers
{
    private sealed record RetryRelease(IPNetwork Subnet);

    private readonly IActorRef _leases;
    private readonly IActorRef _watcher;
    private readonly string _ownNode;
    private readonly Action<string> _onOwnNodeDeleted;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Microsoft.Extensions.Logging.ILogger _events;
    private readonly HashSet<string> _deleted = new(StringComparer.Ordinal);
    private readonly HashSet<IPNetwork> _releasing = [];
    private IImmutableDictionary<IPNetwork, Lease> _table = ImmutableDictionary<IPNetwork, Lease>.Empty;

    public ITimerScheduler Timers { get; set; } = null!;

    public NodeLeaseReleaserActor(IActorRef leases, IActorRef watcher, string ownNode, Action<string> onOwnNodeDeleted)
    {
        _leases = leases;
        _watcher = watcher;
        _ownNode = ownNode;
        _onOwnNodeDeleted = onOwnNodeDeleted;
        _events = Context.System.FlannelLogger("Flannel.Kube");

        Receive<KubeNodeAdded>(m => _deleted.Remove(m.Node.Name));
        Receive<KubeNodeUpdated>(_ => { });
        Receive<KubeNodeDeleted>(m => OnDeleted(m.Node.Name, "deleted from Kubernetes"));
        Receive<KubeNodesSynced>(m =>
        {
            var present = m.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var node in _table.Values.Select(l => l.Node).Distinct().Where(n => !present.Contains(n)).ToList())
                OnDeleted(node, "not in Kubernetes any more (re-list)");
        });
        Receive<LeaseSnapshot>(m =>
        {
            _table = m.Leases;
            ReleaseLeasesOfDeleted();
        });
        // Logged once, as event 1004 when the release is asked for.
        Receive<LeaseReleased>(m => _releasing.Remove(m.Subnet));
        Receive<LeaseReleaseFailed>(m => _log.Warning("Lease release failed ({0}); retrying", m.Reason));
        Receive<RetryRelease>(m =>
        {
            _releasing.Remove(m.Subnet);
            ReleaseLeasesOfDeleted();
        });
    }

    public static Props Props(IActorRef leases, IActorRef watcher, string ownNode, Action<string> onOwnNodeDeleted) =>
        Akka.Actor.Props.Create(() => new NodeLeaseReleaserActor(leases, watcher, ownNode, onOwnNodeDeleted));

    protected override void PreStart()
    {
        _leases.Tell(new SubscribeLeases(Self));
        _watcher.Tell(new SubscribeKubeNodes(Self));
    }

    private void OnDeleted(string node, string why)
    {
        if (node == _ownNode)
        {
            _log.Warning("This node ({0}) was {1}", node, why);
            _onOwnNodeDeleted($"node {node} was {why}");
            return;
        }
        if (!_deleted.Add(node)) return;
        _log.Info("Node {0} {1}: releasing its leases", node, why);
        ReleaseLeasesOfDeleted();
    }

    private void ReleaseLeasesOfDeleted()
    {
        foreach (var lease in _table.Values.Where(l => _deleted.Contains(l.Node) && !_releasing.Contains(l.Subnet)))
        {
            _releasing.Add(lease.Subnet);
            _events.LeaseReleased(lease.Subnet.ToString(), lease.Node, "node deleted from Kubernetes");
            _leases.Tell(new ReleaseLease(lease.Subnet, ReleaseKind.NodeDeleted));
            // Whatever the answer, look again later: the node may write the lease again before its agent stops.
            Timers.StartSingleTimer("retry-" + lease.Subnet, new RetryRelease(lease.Subnet), TimeSpan.FromSeconds(3));
        }
    }
}
