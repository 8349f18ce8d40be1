using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Observability;

/// <summary>
/// Stable event ids for the events operators alert on. They appear as "EventId" in `--log-format json` lines;
/// never renumber one. Ranges: 1xxx leases, 2xxx peers/routes, 3xxx backend/config, 4xxx cluster, 5xxx command host.
/// </summary>
public static class EventIds
{
    public static readonly EventId LeaseAcquired = new(1001, nameof(LeaseAcquired));
    public static readonly EventId LeaseRenewed = new(1002, nameof(LeaseRenewed));
    public static readonly EventId LeaseLost = new(1003, nameof(LeaseLost));
    public static readonly EventId LeaseReleased = new(1004, nameof(LeaseReleased));

    public static readonly EventId PeerAdded = new(2001, nameof(PeerAdded));
    public static readonly EventId PeerRemoved = new(2002, nameof(PeerRemoved));
    public static readonly EventId DriftRepaired = new(2003, nameof(DriftRepaired));

    public static readonly EventId BackendSwitched = new(3001, nameof(BackendSwitched));
    public static readonly EventId ConfigRefused = new(3002, nameof(ConfigRefused));
    public static readonly EventId ConfigApplied = new(3003, nameof(ConfigApplied));

    public static readonly EventId ClusterMemberChanged = new(4001, nameof(ClusterMemberChanged));

    // 4070-4099 security, replicated data (issue #11 T4).
    public static readonly EventId LeaseEntryRejected = new(4070, nameof(LeaseEntryRejected));

    public static readonly EventId CmdHostStarted = new(5001, nameof(CmdHostStarted));
    public static readonly EventId CmdExecuted = new(5002, nameof(CmdExecuted));
    public static readonly EventId CmdFailed = new(5003, nameof(CmdFailed));
}
