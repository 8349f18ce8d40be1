using Prometheus;

namespace Flannel.Host.Metrics;

/// <summary>
/// Every Prometheus collector flanneld exports, registered in one place on one registry (served at /metrics on the
/// health port). State gauges and the tunnel's counters are filled at scrape time by <see cref="AgentScraper"/>;
/// event counters and histograms come from Flannel.Actors' BCL instruments through <see cref="InstrumentBridge"/>.
/// </summary>
public sealed class FlannelMetrics
{
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public FlannelMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);

        LeasesHeld = f.CreateGauge("flannel_leases_held", "Subnet leases this node holds (unexpired).");
        LeasesKnown = f.CreateGauge("flannel_leases_known", "Unexpired subnet leases in the replicated lease table.");
        LeasesExpired = f.CreateGauge("flannel_leases_expired", "Expired leases still in the table (not yet collected).");
        PeersKnown = f.CreateGauge("flannel_peers_known", "Peers the backend should program (other nodes' leases).");
        PeersProgrammed = f.CreateGauge("flannel_peers_programmed", "Peers whose kernel state matches the desired state.");
        PeersDrifted = f.CreateGauge("flannel_peers_drifted", "Peers whose kernel state differs from the desired state.");

        ReconcileRuns = f.CreateCounter("flannel_reconcile_runs_total", "Reconcile passes over the kernel state.",
            new CounterConfiguration { LabelNames = ["backend"] });
        ReconcileRepairs = f.CreateCounter("flannel_reconcile_repairs_total", "Kernel objects repaired by reconcile passes.",
            new CounterConfiguration { LabelNames = ["backend", "kind"] });

        LeaseAcquireSeconds = f.CreateHistogram("flannel_lease_acquire_seconds", "Time to acquire this node's lease.",
            new HistogramConfiguration { LabelNames = ["result"], Buckets = LatencyBuckets });
        LeaseRenewSeconds = f.CreateHistogram("flannel_lease_renew_seconds", "Time to renew this node's lease.",
            new HistogramConfiguration { LabelNames = ["result"], Buckets = LatencyBuckets });

        TunnelPackets = f.CreateCounter("flannel_tunnel_packets_total", "Inner packets through the UDP tunnel (tx: to peers, rx: from peers).",
            new CounterConfiguration { LabelNames = ["direction"] });
        TunnelBytes = f.CreateCounter("flannel_tunnel_bytes_total", "Inner bytes through the UDP tunnel.",
            new CounterConfiguration { LabelNames = ["direction"] });
        TunnelCoalescedWrites = f.CreateCounter("flannel_tunnel_coalesced_writes_total",
            "GSO super-packets the UDP tunnel wrote to the TUN for received packets, by inner protocol.",
            new CounterConfiguration { LabelNames = ["protocol"] });
        TunnelCoalescedPackets = f.CreateCounter("flannel_tunnel_coalesced_packets_total",
            "Received packets carried in those super-packets, by inner protocol (packets / writes = the batching achieved).",
            new CounterConfiguration { LabelNames = ["protocol"] });
        TunnelGsoRefused = f.CreateCounter("flannel_tunnel_gso_refused_total",
            "UDP GSO writes the kernel refused (the queue then writes datagrams one by one).");
        BpfPackets = f.CreateCounter("flannel_udp_bpf_packets_total",
            "Inner packets the udp backend's TC-BPF path carried in the kernel (tx: encapsulated, rx: decapsulated); fallbacks and drops are flannel_tunnel_drops_total{reason=~\"bpf_.*\"}.",
            new CounterConfiguration { LabelNames = ["direction"] });
        BpfBytes = f.CreateCounter("flannel_udp_bpf_bytes_total", "Inner bytes the TC-BPF path carried.",
            new CounterConfiguration { LabelNames = ["direction"] });
        TunnelDrops = f.CreateCounter("flannel_tunnel_drops_total", "Packets the UDP tunnel dropped, by direction and reason.",
            new CounterConfiguration { LabelNames = ["direction", "reason"] });

        BackendSwitches = f.CreateCounter("flannel_backend_switch_total", "Live backend switches.",
            new CounterConfiguration { LabelNames = ["from", "to"] });
        BackendSwitchSeconds = f.CreateHistogram("flannel_backend_switch_duration_seconds", "Time a live backend switch took.",
            new HistogramConfiguration { Buckets = LatencyBuckets });

        DDataReplicas = f.CreateGauge("flannel_ddata_replicas", "Nodes the DistributedData replicator replicates to (itself included).");
        DDataUpdates = f.CreateCounter("flannel_ddata_updates_total", "Writes of the replicated lease table.",
            new CounterConfiguration { LabelNames = ["result"] });
        DDataChanges = f.CreateCounter("flannel_ddata_changes_total", "Change notifications of the replicated lease table.");
        LeaseRequestsRefused = f.CreateCounter("flannel_lease_requests_refused_total",
            "Lease requests the allocator on this node refused: queue caps, table cap, or denied by authorization.",
            new CounterConfiguration { LabelNames = ["reason"] });
        LeaseEntriesRejected = f.CreateCounter("flannel_lease_entries_rejected_total",
            "Lease table entries this node refused to program (counted once per entry and reason), by reason.",
            new CounterConfiguration { LabelNames = ["reason"] });

        KubeNodes = f.CreateGauge("flannel_kube_nodes", "Kubernetes Nodes the node watcher knows (Kubernetes mode only).",
            new GaugeConfiguration { SuppressInitialValue = true });
        KubeNodeEvents = f.CreateCounter("flannel_kube_node_events_total",
            "Kubernetes Node changes the node watcher applied, by outcome (unchanged: nothing flannel reads changed).",
            new CounterConfiguration { LabelNames = ["outcome"] });
        KubeNodeLists = f.CreateCounter("flannel_kube_node_lists_total", "Complete (re)lists of the Kubernetes Nodes.");
        KubeNodeListTime = f.CreateGauge("flannel_kube_node_list_timestamp_seconds",
            "When the node watcher last applied a complete (re)list of the Nodes (Unix time).",
            new GaugeConfiguration { SuppressInitialValue = true });
        KubeNodeListDuration = f.CreateGauge("flannel_kube_node_list_duration_seconds",
            "How long the last complete (re)list of the Nodes took, from asking for the first page until every change was applied.",
            new GaugeConfiguration { SuppressInitialValue = true });
        KubeNodesResourceVersion = f.CreateGauge("flannel_kube_nodes_resource_version",
            "resourceVersion of the last Node change the node watcher applied: the API server's current one minus this is the watch's backlog.",
            new GaugeConfiguration { SuppressInitialValue = true });

        ClusterMembers = f.CreateGauge("flannel_cluster_members", "Cluster members by status.",
            new GaugeConfiguration { LabelNames = ["status"] });
        ClusterUnreachable = f.CreateGauge("flannel_cluster_unreachable_members", "Members this node sees as unreachable.");
        ClusterIsLeader = f.CreateGauge("flannel_cluster_is_leader", "1 when this node is the cluster leader.");
        ClusterCertificateExpiry = f.CreateGauge("flannel_cluster_tls_certificate_expiry_timestamp_seconds",
            "When this node's cluster TLS certificate expires (Unix time); absent without TLS. Alert well before it.",
            new GaugeConfiguration { SuppressInitialValue = true });

        ScrapeErrors = f.CreateCounter("flannel_scrape_errors_total", "Sources that failed while a scrape read them.",
            new CounterConfiguration { LabelNames = ["source"] });
    }

    /// <summary>A registry of its own (tests, several agents in one process) or the process default.</summary>
    public static FlannelMetrics Create(CollectorRegistry? registry = null)
    {
        var r = registry ?? Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(r);
        return new FlannelMetrics(r);
    }

    public CollectorRegistry Registry { get; }

    public Gauge LeasesHeld { get; }
    public Gauge LeasesKnown { get; }
    public Gauge LeasesExpired { get; }
    public Gauge PeersKnown { get; }
    public Gauge PeersProgrammed { get; }
    public Gauge PeersDrifted { get; }
    public Counter ReconcileRuns { get; }
    public Counter ReconcileRepairs { get; }
    public Histogram LeaseAcquireSeconds { get; }
    public Histogram LeaseRenewSeconds { get; }
    public Counter TunnelPackets { get; }
    public Counter TunnelBytes { get; }
    public Counter TunnelDrops { get; }
    public Counter BpfPackets { get; }
    public Counter BpfBytes { get; }
    public Counter TunnelCoalescedWrites { get; }
    public Counter TunnelCoalescedPackets { get; }
    public Counter TunnelGsoRefused { get; }
    public Counter BackendSwitches { get; }
    public Histogram BackendSwitchSeconds { get; }
    public Gauge DDataReplicas { get; }
    public Counter DDataUpdates { get; }
    public Counter DDataChanges { get; }
    public Counter LeaseRequestsRefused { get; }
    public Counter LeaseEntriesRejected { get; }
    public Gauge KubeNodes { get; }
    public Counter KubeNodeEvents { get; }
    public Counter KubeNodeLists { get; }
    public Gauge KubeNodeListTime { get; }
    public Gauge KubeNodeListDuration { get; }
    public Gauge KubeNodesResourceVersion { get; }
    public Gauge ClusterMembers { get; }
    public Gauge ClusterUnreachable { get; }
    public Gauge ClusterIsLeader { get; }
    public Gauge ClusterCertificateExpiry { get; }
    public Counter ScrapeErrors { get; }

    /// <summary>The exposition text, as /metrics serves it.</summary>
    public async Task<string> ScrapeAsync(CancellationToken ct = default)
    {
        using var stream = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(stream, ct);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
