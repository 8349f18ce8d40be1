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
}
