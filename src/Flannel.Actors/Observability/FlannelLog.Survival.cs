using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Observability;

// Survival events (ids 4100-4119, see EventIds): the actor system ended without our stop, the data plane stays and a
// new incarnation rejoins. In their own file so other helpers' event sets do not collide in FlannelLog.Log.cs.
public static partial class FlannelLog
{
    [LoggerMessage(EventId = EventIds.Id.ClusterLeft, EventName = nameof(EventIds.ClusterLeft), Level = LogLevel.Warning,
        Message = "removed from the cluster (incarnation {Incarnation}, {Reason}): the data plane keeps forwarding with the last known peers ({Peers}) and lease {Subnet}")]
    public static partial void ClusterLeft(this ILogger logger, int incarnation, string reason, int peers, string subnet);

    [LoggerMessage(EventId = EventIds.Id.Partitioned, EventName = nameof(EventIds.Partitioned), Level = LogLevel.Warning,
        Message = "partitioned: {Reason}; lease changes wait for a majority, the data plane keeps forwarding")]
    public static partial void Partitioned(this ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.Id.Rejoining, EventName = nameof(EventIds.Rejoining), Level = LogLevel.Information,
        Message = "rejoining as incarnation {Incarnation} in {Delay:0.0} s through {Seeds}")]
    public static partial void Rejoining(this ILogger logger, int incarnation, double delay, string seeds);

    [LoggerMessage(EventId = EventIds.Id.Rejoined, EventName = nameof(EventIds.Rejoined), Level = LogLevel.Information,
        Message = "rejoined the cluster as {Address} (incarnation {Incarnation}) {Seconds:0.0} s after leaving it")]
    public static partial void Rejoined(this ILogger logger, string address, int incarnation, double seconds);

    [LoggerMessage(EventId = EventIds.Id.QuorumRegained, EventName = nameof(EventIds.QuorumRegained), Level = LogLevel.Information,
        Message = "no longer partitioned: {Reachable} of {Members} members reachable")]
    public static partial void QuorumRegained(this ILogger logger, int reachable, int members);

    [LoggerMessage(EventId = EventIds.Id.RejoinStartFailed, EventName = nameof(EventIds.RejoinStartFailed), Level = LogLevel.Warning,
        Message = "could not start incarnation {Incarnation}: {Error}; retrying in {Delay:0.0} s")]
    public static partial void RejoinStartFailed(this ILogger logger, int incarnation, string error, double delay);

    [LoggerMessage(EventId = EventIds.Id.DataPlaneFromApi, EventName = nameof(EventIds.DataPlaneFromApi), Level = LogLevel.Information,
        Message = "no lease from the cluster yet: backend set up on podCIDR {Subnet} of Node {Node} (subnet.env already held it), peers from the Nodes' flannel annotations until the cluster grants the lease")]
    public static partial void DataPlaneFromApi(this ILogger logger, string subnet, string node);

    [LoggerMessage(EventId = EventIds.Id.ClusterFormationWaiting, EventName = nameof(EventIds.ClusterFormationWaiting), Level = LogLevel.Warning,
        Message = "not forming a cluster: {Reason}; asking the seeds {Seeds} again every {Interval:0.0} s (readiness: partitioned)")]
    public static partial void ClusterFormationWaiting(this ILogger logger, string reason, string seeds, double interval);

    [LoggerMessage(EventId = EventIds.Id.ClusterFormationDecided, EventName = nameof(EventIds.ClusterFormationDecided), Level = LogLevel.Information,
        Message = "cluster formation: {Decision} ({Reason}) after {Seconds:0.0} s")]
    public static partial void ClusterFormationDecided(this ILogger logger, string decision, string reason, double seconds);

    [LoggerMessage(EventId = EventIds.Id.ClusterFormedAloneAfterTimeout, EventName = nameof(EventIds.ClusterFormedAloneAfterTimeout), Level = LogLevel.Warning,
        Message = "forming a cluster alone on the operator's time-out: {Reason}; if the others still run the cluster, two clusters now exist until this agent is restarted")]
    public static partial void ClusterFormedAloneAfterTimeout(this ILogger logger, string reason);
}
