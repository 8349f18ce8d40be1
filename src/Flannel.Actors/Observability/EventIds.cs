using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Observability;

/// <summary>
/// Stable event ids for the events operators alert on. They appear as "EventId" in `--log-format json` lines;
/// never renumber one. Ranges: 1xxx leases, 2xxx peers/routes, 3xxx backend/config, 4xxx cluster, 5xxx command host.
/// The FlannelLog partials take their ids from <see cref="Id"/> and their names from the fields below.
/// </summary>
public static class EventIds
{
    /// <summary>The numbers, as constants for the [LoggerMessage] attributes (FlannelLog.*.cs); the one place they are written.</summary>
    public static class Id
    {
        public const int LeaseAcquired = 1001;
        public const int LeaseRenewed = 1002;
        public const int LeaseLost = 1003;
        public const int LeaseReleased = 1004;
        // The durable lease store (1100-1119): Leases/Durable/LeaseFileStore.
        public const int LeaseStoreLoaded = 1100;
        public const int LeaseStoreEmpty = 1101;
        public const int LeaseStoreUnusable = 1102;
        public const int LeaseStoreWriteFailed = 1103;
        public const int LeaseStoreLocked = 1104;
        public const int LeaseStoreWriteRecovered = 1105;
        public const int LeaseStoreNotConfigured = 1106;
        public const int LeaseStoreOff = 1107;

        public const int PeerAdded = 2001;
        public const int PeerRemoved = 2002;
        public const int DriftRepaired = 2003;
        public const int UdpDatapathChosen = 2010;
        // Nodes outside our cluster programmed from their Kubernetes annotations (2020-2029): Routes/ForeignPeers (issue #17).
        public const int ForeignPeerAccepted = 2020;
        public const int ForeignPeerWithdrawn = 2021;
        public const int ForeignPeerRejected = 2022;

        public const int BackendSwitched = 3001;
        public const int ConfigRefused = 3002;
        public const int ConfigApplied = 3003;

        public const int ClusterMemberChanged = 4001;

        // Security, the command host (4020-4039): who was refused, and why, on the operator channel.
        public const int CmdPeerRefused = 4020;
        public const int CmdHostBusy = 4021;
        public const int CmdTcpUnauthenticated = 4022;
        public const int CmdRequestRefused = 4023;
        public const int CmdSocketReplaced = 4024;
        // Security (4xxx "security", authorization of lease requests and operator actions: 4040-4069).
        public const int LeaseClaimDenied = 4040;
        public const int LeaseNodeBound = 4041;
        public const int LeaseOwnerRebound = 4042;
        public const int LeaseStaleEvicted = 4043;
        public const int LeaseReleaseDenied = 4044;
        public const int LeaseReleasedByOperator = 4045;
        public const int LeaseRequestsThrottled = 4046;
        public const int LeaseTableFull = 4047;
        public const int LeaseRequestAnonymous = 4048;
        public const int ClusterMemberRemovedByOperator = 4049;
        public const int OwnLeaseRewritten = 4050;
        // Security (4xxx): cluster transport TLS and the wire lock (4002-4019; 4001 was already taken above).
        public const int ClusterCertificateRefused = 4002;
        public const int ClusterConnectionRefused = 4003;
        public const int WireMessageRefused = 4004;
        public const int ClusterTlsEnabled = 4005;
        public const int ClusterInsecure = 4006;
        public const int ClusterLocalOnly = 4007;
        public const int ClusterCertificateExpiresSoon = 4008;
        // 4070-4099 security, replicated data (issue #11 T4).
        public const int LeaseEntryRejected = 4070;

        // Survival (4100-4119): the control plane ends without our stop; the data plane stays, a new incarnation rejoins.
        public const int ClusterLeft = 4100;
        public const int Partitioned = 4101;
        public const int Rejoining = 4102;
        public const int Rejoined = 4103;
        public const int QuorumRegained = 4104;
        public const int RejoinStartFailed = 4105;
        // A restart with a remembered cluster (RememberedClusterFormation): never a second cluster alone.
        public const int ClusterFormationWaiting = 4106;
        public const int ClusterFormationDecided = 4107;
        public const int ClusterFormedAloneAfterTimeout = 4108;
        // Kubernetes mode, a restart before the cluster answers: the data plane from the Node objects (NodeAgentActor).
        public const int DataPlaneFromApi = 4110;

        public const int CmdHostStarted = 5001;
        public const int CmdExecuted = 5002;
        public const int CmdFailed = 5003;

        // Memory (5010-5014): the executable's start-up-only pages given back once the agent is ready.
        public const int StartupPagesReleased = 5010;
        public const int StartupPagesReleaseFailed = 5011;
    }

    public static readonly EventId LeaseAcquired = new(Id.LeaseAcquired, nameof(LeaseAcquired));
    public static readonly EventId LeaseRenewed = new(Id.LeaseRenewed, nameof(LeaseRenewed));
    public static readonly EventId LeaseLost = new(Id.LeaseLost, nameof(LeaseLost));
    public static readonly EventId LeaseReleased = new(Id.LeaseReleased, nameof(LeaseReleased));
    public static readonly EventId LeaseStoreLoaded = new(Id.LeaseStoreLoaded, nameof(LeaseStoreLoaded));
    public static readonly EventId LeaseStoreEmpty = new(Id.LeaseStoreEmpty, nameof(LeaseStoreEmpty));
    public static readonly EventId LeaseStoreUnusable = new(Id.LeaseStoreUnusable, nameof(LeaseStoreUnusable));
    public static readonly EventId LeaseStoreWriteFailed = new(Id.LeaseStoreWriteFailed, nameof(LeaseStoreWriteFailed));
    public static readonly EventId LeaseStoreLocked = new(Id.LeaseStoreLocked, nameof(LeaseStoreLocked));
    public static readonly EventId LeaseStoreWriteRecovered = new(Id.LeaseStoreWriteRecovered, nameof(LeaseStoreWriteRecovered));
    public static readonly EventId LeaseStoreNotConfigured = new(Id.LeaseStoreNotConfigured, nameof(LeaseStoreNotConfigured));
    public static readonly EventId LeaseStoreOff = new(Id.LeaseStoreOff, nameof(LeaseStoreOff));
    public static readonly EventId PeerAdded = new(Id.PeerAdded, nameof(PeerAdded));
    public static readonly EventId PeerRemoved = new(Id.PeerRemoved, nameof(PeerRemoved));
    public static readonly EventId DriftRepaired = new(Id.DriftRepaired, nameof(DriftRepaired));
    /// <summary>The udp backend's data path (TC-BPF or TUN) and why; once per backend start.</summary>
    /// <summary>The executable's start-up-only pages given back after readiness (Flannel.Net.Memory.StartupPages).</summary>
    public static readonly EventId StartupPagesReleased = new(Id.StartupPagesReleased, nameof(StartupPagesReleased));
    public static readonly EventId StartupPagesReleaseFailed = new(Id.StartupPagesReleaseFailed, nameof(StartupPagesReleaseFailed));
    public static readonly EventId UdpDatapathChosen = new(Id.UdpDatapathChosen, nameof(UdpDatapathChosen));
    public static readonly EventId ForeignPeerAccepted = new(Id.ForeignPeerAccepted, nameof(ForeignPeerAccepted));
    public static readonly EventId ForeignPeerWithdrawn = new(Id.ForeignPeerWithdrawn, nameof(ForeignPeerWithdrawn));
    public static readonly EventId ForeignPeerRejected = new(Id.ForeignPeerRejected, nameof(ForeignPeerRejected));
    public static readonly EventId BackendSwitched = new(Id.BackendSwitched, nameof(BackendSwitched));
    public static readonly EventId ConfigRefused = new(Id.ConfigRefused, nameof(ConfigRefused));
    public static readonly EventId ConfigApplied = new(Id.ConfigApplied, nameof(ConfigApplied));
    public static readonly EventId ClusterMemberChanged = new(Id.ClusterMemberChanged, nameof(ClusterMemberChanged));
    public static readonly EventId CmdPeerRefused = new(Id.CmdPeerRefused, nameof(CmdPeerRefused));
    public static readonly EventId CmdHostBusy = new(Id.CmdHostBusy, nameof(CmdHostBusy));
    public static readonly EventId CmdTcpUnauthenticated = new(Id.CmdTcpUnauthenticated, nameof(CmdTcpUnauthenticated));
    public static readonly EventId CmdRequestRefused = new(Id.CmdRequestRefused, nameof(CmdRequestRefused));
    public static readonly EventId CmdSocketReplaced = new(Id.CmdSocketReplaced, nameof(CmdSocketReplaced));
    public static readonly EventId LeaseClaimDenied = new(Id.LeaseClaimDenied, nameof(LeaseClaimDenied));
    public static readonly EventId LeaseNodeBound = new(Id.LeaseNodeBound, nameof(LeaseNodeBound));
    public static readonly EventId LeaseOwnerRebound = new(Id.LeaseOwnerRebound, nameof(LeaseOwnerRebound));
    public static readonly EventId LeaseStaleEvicted = new(Id.LeaseStaleEvicted, nameof(LeaseStaleEvicted));
    public static readonly EventId LeaseReleaseDenied = new(Id.LeaseReleaseDenied, nameof(LeaseReleaseDenied));
    public static readonly EventId LeaseReleasedByOperator = new(Id.LeaseReleasedByOperator, nameof(LeaseReleasedByOperator));
    public static readonly EventId LeaseRequestsThrottled = new(Id.LeaseRequestsThrottled, nameof(LeaseRequestsThrottled));
    public static readonly EventId LeaseTableFull = new(Id.LeaseTableFull, nameof(LeaseTableFull));
    public static readonly EventId LeaseRequestAnonymous = new(Id.LeaseRequestAnonymous, nameof(LeaseRequestAnonymous));
    public static readonly EventId ClusterMemberRemovedByOperator = new(Id.ClusterMemberRemovedByOperator, nameof(ClusterMemberRemovedByOperator));
    public static readonly EventId OwnLeaseRewritten = new(Id.OwnLeaseRewritten, nameof(OwnLeaseRewritten));
    public static readonly EventId ClusterCertificateRefused = new(Id.ClusterCertificateRefused, nameof(ClusterCertificateRefused));
    public static readonly EventId ClusterConnectionRefused = new(Id.ClusterConnectionRefused, nameof(ClusterConnectionRefused));
    public static readonly EventId WireMessageRefused = new(Id.WireMessageRefused, nameof(WireMessageRefused));
    public static readonly EventId ClusterTlsEnabled = new(Id.ClusterTlsEnabled, nameof(ClusterTlsEnabled));
    public static readonly EventId ClusterInsecure = new(Id.ClusterInsecure, nameof(ClusterInsecure));
    public static readonly EventId ClusterLocalOnly = new(Id.ClusterLocalOnly, nameof(ClusterLocalOnly));
    public static readonly EventId ClusterCertificateExpiresSoon = new(Id.ClusterCertificateExpiresSoon, nameof(ClusterCertificateExpiresSoon));
    public static readonly EventId LeaseEntryRejected = new(Id.LeaseEntryRejected, nameof(LeaseEntryRejected));
    public static readonly EventId ClusterLeft = new(Id.ClusterLeft, nameof(ClusterLeft));
    public static readonly EventId Partitioned = new(Id.Partitioned, nameof(Partitioned));
    public static readonly EventId Rejoining = new(Id.Rejoining, nameof(Rejoining));
    public static readonly EventId Rejoined = new(Id.Rejoined, nameof(Rejoined));
    public static readonly EventId QuorumRegained = new(Id.QuorumRegained, nameof(QuorumRegained));
    public static readonly EventId RejoinStartFailed = new(Id.RejoinStartFailed, nameof(RejoinStartFailed));
    public static readonly EventId ClusterFormationWaiting = new(Id.ClusterFormationWaiting, nameof(ClusterFormationWaiting));
    public static readonly EventId ClusterFormationDecided = new(Id.ClusterFormationDecided, nameof(ClusterFormationDecided));
    public static readonly EventId ClusterFormedAloneAfterTimeout = new(Id.ClusterFormedAloneAfterTimeout, nameof(ClusterFormedAloneAfterTimeout));
    /// <summary>Kubernetes mode: no lease from the cluster yet, the backend set up on the Node's podCIDR and the peers taken
    /// from the Nodes' flannel annotations until it comes.</summary>
    public static readonly EventId DataPlaneFromApi = new(Id.DataPlaneFromApi, nameof(DataPlaneFromApi));
    public static readonly EventId CmdHostStarted = new(Id.CmdHostStarted, nameof(CmdHostStarted));
    public static readonly EventId CmdExecuted = new(Id.CmdExecuted, nameof(CmdExecuted));
    public static readonly EventId CmdFailed = new(Id.CmdFailed, nameof(CmdFailed));
}
