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
    // The durable lease store (1100-1119): Leases/Durable/LeaseFileStore.
    public static readonly EventId LeaseStoreLoaded = new(1100, nameof(LeaseStoreLoaded));
    public static readonly EventId LeaseStoreEmpty = new(1101, nameof(LeaseStoreEmpty));
    public static readonly EventId LeaseStoreUnusable = new(1102, nameof(LeaseStoreUnusable));
    public static readonly EventId LeaseStoreWriteFailed = new(1103, nameof(LeaseStoreWriteFailed));
    public static readonly EventId LeaseStoreLocked = new(1104, nameof(LeaseStoreLocked));
    public static readonly EventId LeaseStoreWriteRecovered = new(1105, nameof(LeaseStoreWriteRecovered));
    public static readonly EventId LeaseStoreNotConfigured = new(1106, nameof(LeaseStoreNotConfigured));
    public static readonly EventId LeaseStoreOff = new(1107, nameof(LeaseStoreOff));

    public static readonly EventId PeerAdded = new(2001, nameof(PeerAdded));
    public static readonly EventId PeerRemoved = new(2002, nameof(PeerRemoved));
    public static readonly EventId DriftRepaired = new(2003, nameof(DriftRepaired));
    /// <summary>The udp backend's data path (TC-BPF or TUN) and why; once per backend start.</summary>
    public static readonly EventId UdpDatapathChosen = new(2010, nameof(UdpDatapathChosen));

    public static readonly EventId BackendSwitched = new(3001, nameof(BackendSwitched));
    public static readonly EventId ConfigRefused = new(3002, nameof(ConfigRefused));
    public static readonly EventId ConfigApplied = new(3003, nameof(ConfigApplied));

    public static readonly EventId ClusterMemberChanged = new(4001, nameof(ClusterMemberChanged));

    // Security, the command host (4020-4039): who was refused, and why, on the operator channel.
    public static readonly EventId CmdPeerRefused = new(4020, nameof(CmdPeerRefused));
    public static readonly EventId CmdHostBusy = new(4021, nameof(CmdHostBusy));
    public static readonly EventId CmdTcpUnauthenticated = new(4022, nameof(CmdTcpUnauthenticated));
    public static readonly EventId CmdRequestRefused = new(4023, nameof(CmdRequestRefused));
    public static readonly EventId CmdSocketReplaced = new(4024, nameof(CmdSocketReplaced));
    // Security (4xxx "security", authorization of lease requests and operator actions: 4040-4069).
    public static readonly EventId LeaseClaimDenied = new(4040, nameof(LeaseClaimDenied));
    public static readonly EventId LeaseNodeBound = new(4041, nameof(LeaseNodeBound));
    public static readonly EventId LeaseOwnerRebound = new(4042, nameof(LeaseOwnerRebound));
    public static readonly EventId LeaseStaleEvicted = new(4043, nameof(LeaseStaleEvicted));
    public static readonly EventId LeaseReleaseDenied = new(4044, nameof(LeaseReleaseDenied));
    public static readonly EventId LeaseReleasedByOperator = new(4045, nameof(LeaseReleasedByOperator));
    public static readonly EventId LeaseRequestsThrottled = new(4046, nameof(LeaseRequestsThrottled));
    public static readonly EventId LeaseTableFull = new(4047, nameof(LeaseTableFull));
    public static readonly EventId LeaseRequestAnonymous = new(4048, nameof(LeaseRequestAnonymous));
    public static readonly EventId ClusterMemberRemovedByOperator = new(4049, nameof(ClusterMemberRemovedByOperator));
    public static readonly EventId OwnLeaseRewritten = new(4050, nameof(OwnLeaseRewritten));
    // Security (4xxx): cluster transport TLS and the wire lock (4002-4019; 4001 was already taken above).
    public static readonly EventId ClusterCertificateRefused = new(4002, nameof(ClusterCertificateRefused));
    public static readonly EventId ClusterConnectionRefused = new(4003, nameof(ClusterConnectionRefused));
    public static readonly EventId WireMessageRefused = new(4004, nameof(WireMessageRefused));
    public static readonly EventId ClusterTlsEnabled = new(4005, nameof(ClusterTlsEnabled));
    public static readonly EventId ClusterInsecure = new(4006, nameof(ClusterInsecure));
    public static readonly EventId ClusterLocalOnly = new(4007, nameof(ClusterLocalOnly));
    public static readonly EventId ClusterCertificateExpiresSoon = new(4008, nameof(ClusterCertificateExpiresSoon));
    // 4070-4099 security, replicated data (issue #11 T4).
    public static readonly EventId LeaseEntryRejected = new(4070, nameof(LeaseEntryRejected));

    // Survival (4100-4119): the control plane ends without our stop; the data plane stays, a new incarnation rejoins.
    public static readonly EventId ClusterLeft = new(4100, nameof(ClusterLeft));
    public static readonly EventId Partitioned = new(4101, nameof(Partitioned));
    public static readonly EventId Rejoining = new(4102, nameof(Rejoining));
    public static readonly EventId Rejoined = new(4103, nameof(Rejoined));
    public static readonly EventId QuorumRegained = new(4104, nameof(QuorumRegained));
    public static readonly EventId RejoinStartFailed = new(4105, nameof(RejoinStartFailed));

    public static readonly EventId CmdHostStarted = new(5001, nameof(CmdHostStarted));
    public static readonly EventId CmdExecuted = new(5002, nameof(CmdExecuted));
    public static readonly EventId CmdFailed = new(5003, nameof(CmdFailed));
}
