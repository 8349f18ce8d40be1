using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Observability;

/// <summary>
/// The important events as LoggerMessage partials (no formatting cost when the level is off; named fields in JSON).
/// Get a logger with <c>Context.System.FlannelLogger("Flannel.Leases")</c> (see <see cref="FlannelLogging"/>).
/// Ids and names must match <see cref="EventIds"/>.
/// </summary>
public static partial class FlannelLog
{
    [LoggerMessage(EventId = 1001, EventName = "LeaseAcquired", Level = LogLevel.Information,
        Message = "lease acquired: {Subnet} for {Node} ({PublicIp}), expires {Expiration:o}")]
    public static partial void LeaseAcquired(this ILogger logger, string subnet, string node, string publicIp, DateTimeOffset expiration);

    [LoggerMessage(EventId = 1002, EventName = "LeaseRenewed", Level = LogLevel.Information,
        Message = "lease renewed: {Subnet}, expires {Expiration:o}")]
    public static partial void LeaseRenewed(this ILogger logger, string subnet, DateTimeOffset expiration);

    [LoggerMessage(EventId = 1003, EventName = "LeaseLost", Level = LogLevel.Warning,
        Message = "lease lost: {Subnet} ({Reason})")]
    public static partial void LeaseLost(this ILogger logger, string subnet, string reason);

    [LoggerMessage(EventId = 1004, EventName = "LeaseReleased", Level = LogLevel.Information,
        Message = "lease released: {Subnet} held by {Node} ({Reason})")]
    public static partial void LeaseReleased(this ILogger logger, string subnet, string node, string reason);

    [LoggerMessage(EventId = 2001, EventName = "PeerAdded", Level = LogLevel.Information,
        Message = "peer added: {Subnet} via {PublicIp} ({Backend})")]
    public static partial void PeerAdded(this ILogger logger, string subnet, string publicIp, string backend);

    [LoggerMessage(EventId = 2002, EventName = "PeerRemoved", Level = LogLevel.Information,
        Message = "peer removed: {Subnet} via {PublicIp}")]
    public static partial void PeerRemoved(this ILogger logger, string subnet, string publicIp);

    [LoggerMessage(EventId = 2003, EventName = "DriftRepaired", Level = LogLevel.Warning,
        Message = "drift repaired: {Kind} for {Subnet}: {Detail}")]
    public static partial void DriftRepaired(this ILogger logger, string kind, string subnet, string detail);

    [LoggerMessage(EventId = 3001, EventName = "BackendSwitched", Level = LogLevel.Warning,
        Message = "backend switched: {From} -> {To} in {DurationMs} ms")]
    public static partial void BackendSwitched(this ILogger logger, string from, string to, double durationMs);

    [LoggerMessage(EventId = 3002, EventName = "ConfigRefused", Level = LogLevel.Error,
        Message = "config refused from {Source}: {Reason}")]
    public static partial void ConfigRefused(this ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 3003, EventName = "ConfigApplied", Level = LogLevel.Information,
        Message = "config applied: version {Version} from {Source}")]
    public static partial void ConfigApplied(this ILogger logger, string version, string source);

    [LoggerMessage(EventId = 4001, EventName = "ClusterMemberChanged", Level = LogLevel.Information,
        Message = "cluster member {Address} is {Status}")]
    public static partial void ClusterMemberChanged(this ILogger logger, string address, string status);

    [LoggerMessage(EventId = 4070, EventName = "LeaseEntryRejected", Level = LogLevel.Warning,
        Message = "lease table entry refused: {Subnet} of node {Node} via {PublicIp}: {Reason} ({Detail})")]
    public static partial void LeaseEntryRejected(this ILogger logger, string subnet, string node, string publicIp, string reason, string detail);

    [LoggerMessage(EventId = 5001, EventName = "CmdHostStarted", Level = LogLevel.Information,
        Message = "command host listening on {Endpoint}")]
    public static partial void CmdHostStarted(this ILogger logger, string endpoint);

    [LoggerMessage(EventId = 5002, EventName = "CmdExecuted", Level = LogLevel.Information,
        Message = "ctl {Palette} {Command} from {Client}: ok")]
    public static partial void CmdExecuted(this ILogger logger, string palette, string command, string client);

    [LoggerMessage(EventId = 5003, EventName = "CmdFailed", Level = LogLevel.Warning,
        Message = "ctl {Palette} {Command} from {Client} failed: {Error}")]
    public static partial void CmdFailed(this ILogger logger, string palette, string command, string client, string error);
}
