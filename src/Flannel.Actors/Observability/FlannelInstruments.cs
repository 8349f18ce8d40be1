using System.Diagnostics.Metrics;

namespace Flannel.Actors.Observability;

/// <summary>
/// Event-style measurements recorded where things happen (lease actor, reconcile loop, backend manager).
/// BCL instruments keep Flannel.Actors free of a metrics library; Flannel.Host/Metrics listens to this meter and
/// exports Prometheus names (flannel_reconcile_runs_total, flannel_lease_acquire_seconds, ...).
/// State (leases held, peers programmed, members) is read at scrape time instead, not recorded here.
/// </summary>
public static class FlannelInstruments
{
    public const string MeterName = "Flannel";

    public static readonly Meter Meter = new(MeterName);

    /// <summary>One reconcile pass over the kernel state (tag: backend).</summary>
    public static readonly Counter<long> ReconcileRuns = Meter.CreateCounter<long>("flannel.reconcile.runs");

    /// <summary>Kernel objects repaired by a reconcile pass (tags: backend, kind = route|neighbour|fdb|link|address|rule).</summary>
    public static readonly Counter<long> ReconcileRepairs = Meter.CreateCounter<long>("flannel.reconcile.repairs");

    /// <summary>Seconds from asking for a lease to holding it (tag: result = ok|failed).</summary>
    public static readonly Histogram<double> LeaseAcquireSeconds = Meter.CreateHistogram<double>("flannel.lease.acquire", "s");

    /// <summary>Seconds a lease renewal took (tag: result = ok|failed).</summary>
    public static readonly Histogram<double> LeaseRenewSeconds = Meter.CreateHistogram<double>("flannel.lease.renew", "s");

    /// <summary>Backend switches (tags: from, to).</summary>
    public static readonly Counter<long> BackendSwitches = Meter.CreateCounter<long>("flannel.backend.switches");

    /// <summary>Seconds a backend switch took (tags: from, to).</summary>
    public static readonly Histogram<double> BackendSwitchSeconds = Meter.CreateHistogram<double>("flannel.backend.switch", "s");

    /// <summary>DistributedData updates of the lease map (tag: result = ok|timeout|failed).</summary>
    public static readonly Counter<long> DDataUpdates = Meter.CreateCounter<long>("flannel.ddata.updates");

    /// <summary>Lease requests the allocator refused before or without judging them on their merits (tag: reason =
    /// sender-queue-full | queue-full | table-full | denied).</summary>
    public static readonly Counter<long> LeaseRequestsRefused = Meter.CreateCounter<long>("flannel.lease.requests.refused");
    /// <summary>
    /// Lease table entries a node refused to use (tag: reason = PeerFilter.Label or duplicate_subnet); counted once per
    /// entry and reason when it appears, not on every recomputation (Prometheus: flannel_lease_entries_rejected_total).
    /// </summary>
    public static readonly Counter<long> LeaseEntriesRejected = Meter.CreateCounter<long>("flannel.lease.entries.rejected");

    /// <summary>DistributedData change notifications received for the lease map.</summary>
    public static readonly Counter<long> DDataChanges = Meter.CreateCounter<long>("flannel.ddata.changes");
}
