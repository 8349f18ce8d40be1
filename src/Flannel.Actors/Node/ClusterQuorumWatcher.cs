using Akka.Actor;
using Akka.Cluster;
using Flannel.Actors.Observability;

namespace Flannel.Actors.Node;

/// <summary>
/// Keeps <see cref="AgentState.Partitioned"/> true to what this node sees: set while it reaches no majority of the
/// members (lease changes fail meanwhile), cleared once it is an Up member of a majority again. One per incarnation of
/// the actor system; in a rejoining incarnation the reason the runner set ("removed from the cluster") stays until this
/// node is Up again, which is logged as <see cref="EventIds.Rejoined"/>. Driven by membership and reachability events
/// only (nothing polls).
/// </summary>
public sealed class ClusterQuorumWatcher : ReceiveActor
{
    private readonly AgentStatus _status;
    private readonly int _incarnation;
    private readonly DateTimeOffset? _leftAt;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly Microsoft.Extensions.Logging.ILogger _events = Context.System.FlannelLogger("Flannel.Cluster");
    private readonly Dictionary<Address, Member> _members = [];
    private readonly HashSet<Address> _unreachable = [];
    private bool _upSeen;

    /// <param name="incarnation">1 for the first actor system of this process, then 2, 3... per rejoin.</param>
    /// <param name="leftAt">When the previous incarnation left the cluster (null for the first).</param>
    public ClusterQuorumWatcher(AgentStatus status, int incarnation, DateTimeOffset? leftAt)
    {
        _status = status;
        _incarnation = incarnation;
        _leftAt = leftAt;
        Receive<ClusterEvent.CurrentClusterState>(s =>
        {
            _members.Clear();
            foreach (var m in s.Members) _members[m.Address] = m;
            _unreachable.Clear();
            foreach (var m in s.Unreachable) _unreachable.Add(m.Address);
            Evaluate();
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            if (e.Member.Status == MemberStatus.Removed)
            {
                _members.Remove(e.Member.Address);
                _unreachable.Remove(e.Member.Address);
            }
            else _members[e.Member.Address] = e.Member;
            Evaluate();
        });
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            _unreachable.Add(e.Member.Address);
            Evaluate();
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            _unreachable.Remove(e.Member.Address);
            Evaluate();
        });
    }

    public static Props Props(AgentStatus status, int incarnation, DateTimeOffset? leftAt) =>
        Akka.Actor.Props.Create(() => new ClusterQuorumWatcher(status, incarnation, leftAt));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Evaluate()
    {
        var self = _cluster.SelfAddress;
        var selfUp = _members.TryGetValue(self, out var me) && me.Status is MemberStatus.Up or MemberStatus.WeaklyUp;
        var sights = _members.Values.Select(m => MemberSight.Of(m.Address.ToString(), m.Status, _unreachable.Contains(m.Address)));
        var before = _status.Current.Partitioned;
        switch (ClusterQuorum.Judge(sights, self.ToString(), selfUp))
        {
            case QuorumVerdict.NoMajority no:
                if (before != no.Reason)
                {
                    if (before is null) _events.Partitioned(no.Reason);
                    _status.Update(s => s with { Partitioned = no.Reason });
                }
                break;
            case QuorumVerdict.Majority yes:
                if (!_upSeen && _incarnation > 1)
                    _events.Rejoined(self.ToString(), _incarnation, _leftAt is { } left ? (DateTimeOffset.UtcNow - left).TotalSeconds : 0);
                else if (before is not null) _events.QuorumRegained(yes.Reachable, yes.Members);
                _status.Update(s => s with { Partitioned = null });
                break;
        }
        if (selfUp) _upSeen = true;
    }
}
