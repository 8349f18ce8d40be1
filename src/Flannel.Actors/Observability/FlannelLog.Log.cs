using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Observability;

/// <summary>
/// The important events as LoggerMessage partials (no formatting cost when the level is off; named fields in JSON).
/// Get a logger with <c>Context.System.FlannelLogger("Flannel.Leases")</c> (see <see cref="FlannelLogging"/>).
/// Ids and names come from <see cref="EventIds"/>.
/// </summary>
public static partial class FlannelLog
{
    [LoggerMessage(EventId = EventIds.Id.LeaseAcquired, EventName = nameof(EventIds.LeaseAcquired), Level = LogLevel.Information,
        Message = "lease acquired: {Subnet} for {Node} ({PublicIp}), expires {Expiration:o}")]
    public static partial void LeaseAcquired(this ILogger logger, string subnet, string node, string publicIp, DateTimeOffset expiration);

    [LoggerMessage(EventId = EventIds.Id.LeaseRenewed, EventName = nameof(EventIds.LeaseRenewed), Level = LogLevel.Information,
        Message = "lease renewed: {Subnet}, expires {Expiration:o}")]
    public static partial void LeaseRenewed(this ILogger logger, string subnet, DateTimeOffset expiration);

    [LoggerMessage(EventId = EventIds.Id.LeaseLost, EventName = nameof(EventIds.LeaseLost), Level = LogLevel.Warning,
        Message = "lease lost: {Subnet} ({Reason})")]
    public static partial void LeaseLost(this ILogger logger, string subnet, string reason);

    [LoggerMessage(EventId = EventIds.Id.LeaseReleased, EventName = nameof(EventIds.LeaseReleased), Level = LogLevel.Information,
        Message = "lease released: {Subnet} held by {Node} ({Reason})")]
    public static partial void LeaseReleased(this ILogger logger, string subnet, string node, string reason);

    [LoggerMessage(EventId = EventIds.Id.PeerAdded, EventName = nameof(EventIds.PeerAdded), Level = LogLevel.Information,
        Message = "peer added: {Subnet} via {PublicIp} ({Backend})")]
    public static partial void PeerAdded(this ILogger logger, string subnet, string publicIp, string backend);

    [LoggerMessage(EventId = EventIds.Id.PeerRemoved, EventName = nameof(EventIds.PeerRemoved), Level = LogLevel.Information,
        Message = "peer removed: {Subnet} via {PublicIp}")]
    public static partial void PeerRemoved(this ILogger logger, string subnet, string publicIp);

    [LoggerMessage(EventId = EventIds.Id.DriftRepaired, EventName = nameof(EventIds.DriftRepaired), Level = LogLevel.Warning,
        Message = "drift repaired: {Kind} for {Subnet}: {Detail}")]
    public static partial void DriftRepaired(this ILogger logger, string kind, string subnet, string detail);

    [LoggerMessage(EventId = EventIds.Id.BackendSwitched, EventName = nameof(EventIds.BackendSwitched), Level = LogLevel.Warning,
        Message = "backend switched: {From} -> {To} in {DurationMs} ms")]
    public static partial void BackendSwitched(this ILogger logger, string from, string to, double durationMs);

    [LoggerMessage(EventId = EventIds.Id.ConfigRefused, EventName = nameof(EventIds.ConfigRefused), Level = LogLevel.Error,
        Message = "config refused from {Source}: {Reason}")]
    public static partial void ConfigRefused(this ILogger logger, string source, string reason);

    [LoggerMessage(EventId = EventIds.Id.ConfigApplied, EventName = nameof(EventIds.ConfigApplied), Level = LogLevel.Information,
        Message = "config applied: version {Version} from {Source}")]
    public static partial void ConfigApplied(this ILogger logger, string version, string source);

    [LoggerMessage(EventId = EventIds.Id.ClusterMemberChanged, EventName = nameof(EventIds.ClusterMemberChanged), Level = LogLevel.Information,
        Message = "cluster member {Address} is {Status}")]
    public static partial void ClusterMemberChanged(this ILogger logger, string address, string status);

    [LoggerMessage(EventId = EventIds.Id.CmdPeerRefused, EventName = nameof(EventIds.CmdPeerRefused), Level = LogLevel.Warning,
        Message = "command host {Socket}: refused pid {Pid} uid {Uid} gid {Gid}: only root may run flanneld ctl")]
    public static partial void CmdPeerRefused(this ILogger logger, string socket, int pid, long uid, long gid);

    [LoggerMessage(EventId = EventIds.Id.CmdHostBusy, EventName = nameof(EventIds.CmdHostBusy), Level = LogLevel.Warning,
        Message = "command host: refused {Refused} connection(s) while {Max} were open (the cap); latest from {Client}")]
    public static partial void CmdHostBusy(this ILogger logger, long refused, int max, string client);

    [LoggerMessage(EventId = EventIds.Id.CmdTcpUnauthenticated, EventName = nameof(EventIds.CmdTcpUnauthenticated), Level = LogLevel.Warning,
        Message = "command host also listens on TCP {Endpoint} (--cmd-port): it cannot tell who connects, so any local process (any user, any hostNetwork pod) can run every flanneld ctl command; use the Unix socket (--cmd-socket) and leave --cmd-port at 0")]
    public static partial void CmdTcpUnauthenticated(this ILogger logger, string endpoint);

    [LoggerMessage(EventId = EventIds.Id.CmdRequestRefused, EventName = nameof(EventIds.CmdRequestRefused), Level = LogLevel.Warning,
        Message = "command host: request from {Client} refused: {Reason}")]
    public static partial void CmdRequestRefused(this ILogger logger, string client, string reason);

    [LoggerMessage(EventId = EventIds.Id.CmdSocketReplaced, EventName = nameof(EventIds.CmdSocketReplaced), Level = LogLevel.Information,
        Message = "command host: removed the stale socket {Socket} left by an earlier run")]
    public static partial void CmdSocketReplaced(this ILogger logger, string socket);
    [LoggerMessage(EventId = EventIds.Id.LeaseClaimDenied, EventName = nameof(EventIds.LeaseClaimDenied), Level = LogLevel.Warning,
        Message = "security: lease claim of node {Node} from {From} denied: {Reason}")]
    public static partial void LeaseClaimDenied(this ILogger logger, string node, string from, string reason);

    [LoggerMessage(EventId = EventIds.Id.LeaseNodeBound, EventName = nameof(EventIds.LeaseNodeBound), Level = LogLevel.Warning,
        Message = "security: lease claim for node {Node} from {From} refused: the node is registered by the live member {Owner}")]
    public static partial void LeaseNodeBound(this ILogger logger, string node, string from, string owner);

    [LoggerMessage(EventId = EventIds.Id.LeaseOwnerRebound, EventName = nameof(EventIds.LeaseOwnerRebound), Level = LogLevel.Warning,
        Message = "security: node {Node} moved from member {OldOwner} (gone) to {NewOwner}")]
    public static partial void LeaseOwnerRebound(this ILogger logger, string node, string oldOwner, string newOwner);

    [LoggerMessage(EventId = EventIds.Id.LeaseStaleEvicted, EventName = nameof(EventIds.LeaseStaleEvicted), Level = LogLevel.Warning,
        Message = "security: stale lease {Subnet} of node {Holder} removed for the podCIDR of node {Node}: {Reason}")]
    public static partial void LeaseStaleEvicted(this ILogger logger, string subnet, string holder, string node, string reason);

    [LoggerMessage(EventId = EventIds.Id.LeaseReleaseDenied, EventName = nameof(EventIds.LeaseReleaseDenied), Level = LogLevel.Warning,
        Message = "security: {Kind} release of {Subnet} from {Origin} denied: {Reason}")]
    public static partial void LeaseReleaseDenied(this ILogger logger, string kind, string subnet, string origin, string reason);

    [LoggerMessage(EventId = EventIds.Id.LeaseReleasedByOperator, EventName = nameof(EventIds.LeaseReleasedByOperator), Level = LogLevel.Warning,
        Message = "security: lease {Subnet} of node {Holder} (owner {Owner}) released by operator from {Origin}, force={Force}")]
    public static partial void LeaseReleasedByOperator(this ILogger logger, string subnet, string holder, string owner, string origin, bool force);

    [LoggerMessage(EventId = EventIds.Id.LeaseRequestsThrottled, EventName = nameof(EventIds.LeaseRequestsThrottled), Level = LogLevel.Warning,
        Message = "security: lease requests from {From} refused: {Reason}")]
    public static partial void LeaseRequestsThrottled(this ILogger logger, string from, string reason);

    [LoggerMessage(EventId = EventIds.Id.LeaseTableFull, EventName = nameof(EventIds.LeaseTableFull), Level = LogLevel.Error,
        Message = "security: lease claim of node {Node} from {From} refused: {Reason}")]
    public static partial void LeaseTableFull(this ILogger logger, string node, string from, string reason);

    [LoggerMessage(EventId = EventIds.Id.LeaseRequestAnonymous, EventName = nameof(EventIds.LeaseRequestAnonymous), Level = LogLevel.Warning,
        Message = "security: {Request} without a sender dropped (nobody to bind it to or answer)")]
    public static partial void LeaseRequestAnonymous(this ILogger logger, string request);

    [LoggerMessage(EventId = EventIds.Id.ClusterMemberRemovedByOperator, EventName = nameof(EventIds.ClusterMemberRemovedByOperator), Level = LogLevel.Warning,
        Message = "security: cluster {Action} {Address} by operator from {Origin}")]
    public static partial void ClusterMemberRemovedByOperator(this ILogger logger, string action, string address, string origin);

    [LoggerMessage(EventId = EventIds.Id.OwnLeaseRewritten, EventName = nameof(EventIds.OwnLeaseRewritten), Level = LogLevel.Warning,
        Message = "own lease {Subnet} was rewritten by someone else (v{Version}: public IP {PublicIp}, backend {Backend}, owner {Owner}); restoring it")]
    public static partial void OwnLeaseRewritten(this ILogger logger, string subnet, long version, string publicIp, string backend, string owner);
    [LoggerMessage(EventId = EventIds.Id.LeaseEntryRejected, EventName = nameof(EventIds.LeaseEntryRejected), Level = LogLevel.Warning,
        Message = "lease table entry refused: {Subnet} of node {Node} via {PublicIp}: {Reason} ({Detail})")]
    public static partial void LeaseEntryRejected(this ILogger logger, string subnet, string node, string publicIp, string reason, string detail);

    [LoggerMessage(EventId = EventIds.Id.CmdHostStarted, EventName = nameof(EventIds.CmdHostStarted), Level = LogLevel.Information,
        Message = "command host listening on {Endpoint}")]
    public static partial void CmdHostStarted(this ILogger logger, string endpoint);

    /// <summary><paramref name="level"/>: Information for commands that change something, Debug for reads (the demo and
    /// the tests poll `ctl status` several times a second).</summary>
    [LoggerMessage(EventId = EventIds.Id.CmdExecuted, EventName = nameof(EventIds.CmdExecuted), Message = "ctl {Palette} {Command} from {Client}: ok")]
    public static partial void CmdExecuted(this ILogger logger, LogLevel level, string palette, string command, string client);

    [LoggerMessage(EventId = EventIds.Id.CmdFailed, EventName = nameof(EventIds.CmdFailed), Level = LogLevel.Warning,
        Message = "ctl {Palette} {Command} from {Client} failed: {Error}")]
    public static partial void CmdFailed(this ILogger logger, string palette, string command, string client, string error);
}
