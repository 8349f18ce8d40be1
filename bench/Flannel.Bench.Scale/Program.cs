using System.Text.Json;
using Flannel.Bench.Scale;

// Scale of the lease layer on paper, with the real serialized sizes: for N nodes, what one lease claim and one gossip
// round cost in the current design (every node a DData replica, ReadMajority/WriteMajority over all of them) and in the
// large-cluster design of docs/scale.md (R replicas on a role, everyone else a subscriber). One JSON line per N.
// Usage: Flannel.Bench.Scale [N ...] (default 100 1000 5000); SCALE_TRIALS (default 9) runs of the gossip model each.

var sizes = args.Length > 0 ? args.Select(int.Parse).ToArray() : [100, 1000, 5000];
var trials = int.TryParse(Environment.GetEnvironmentVariable("SCALE_TRIALS"), out var tr) && tr > 0 ? tr : 9;
const int gossipMs = 500;        // flannel.leases' akka.cluster.distributed-data.gossip-interval
const int replicas = 5;          // the proposed role subset
const int heartbeatTargets = 9;  // akka.cluster.failure-detector.monitored-by-nr-of-members (Akka.NET default)
static double Median(IEnumerable<double> xs)
{
    var s = xs.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}

using var measure = new TableSizes();
foreach (var n in sizes)
{
    var size = measure.Measure(n);
    var rng = new Random(n);
    var runs = Enumerable.Range(0, trials).Select(_ => GossipModel.Run(n, gossipMs, size.Table, size.Entry, rng)).ToList();
    var m = GossipModel.Majority(n);
    // Current design, one claim: request+reply, ReadMajority (each ReadResult carries the whole table), WriteMajority
    // (a delta each), then the change spreads (model), and every node rewrites its durable store once.
    var readBytes = (m - 1) * size.Table;
    var spread = Median(runs.Select(r => (double)(r.FullTables + r.Deltas)));
    var current = new Dictionary<string, object>
    {
        ["claim_messages"] = 2 + 2 * (m - 1) + 2 * (m - 1) + (long)spread,
        ["claim_messages_formula"] = "2 + 2(m-1) read + 2(m-1) write + deltas(N-1) + 2 x full-table gossips (model)",
        ["claim_bytes"] = (long)(readBytes + Median(runs.Select(r => (double)r.Bytes))),
        ["read_majority_bytes_at_allocator"] = readBytes,
        ["full_table_gossips"] = Median(runs.Select(r => (double)r.FullTables)),
        ["delta_messages"] = Median(runs.Select(r => (double)r.Deltas)),
        ["all_replicas_have_it_s"] = Math.Round(Median(runs.Select(r => r.AllHaveS)), 2),
        ["durable_bytes_written_cluster"] = (long)n * size.Durable,
        ["ddata_status_per_gossip_round"] = n,
        ["cluster_heartbeats_per_s"] = 2L * heartbeatTargets * n,
    };
    // Role subset: R replicas (ReadMajority/WriteMajority among R), the change pushed once to each subscriber.
    var mr = GossipModel.Majority(replicas);
    var subset = new Dictionary<string, object>
    {
        ["replicas"] = replicas,
        ["claim_messages"] = 2 + 4 * (mr - 1) + (n - replicas),
        ["claim_messages_formula"] = "2 + 2(r-1) read + 2(r-1) write among R + one push per subscriber",
        ["claim_bytes"] = (mr - 1) * size.Table + 2L * (mr - 1) * size.Entry + (long)(n - replicas) * size.Entry,
        ["read_majority_bytes_at_allocator"] = (mr - 1) * size.Table,
        ["durable_bytes_written_cluster"] = replicas * size.Durable,
        ["ddata_status_per_gossip_round"] = replicas,
        ["snapshot_bytes_per_subscriber_join"] = size.Table,
    };
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["nodes"] = n,
        ["majority"] = m,
        ["table_bytes"] = size.Table,
        ["durable_file_bytes"] = size.Durable + Flannel.Actors.Leases.Durable.LeaseStoreFormat.HeaderLength + 32,
        ["entry_delta_bytes"] = size.Entry,
        ["model_trials"] = trials,
        ["current"] = current,
        ["role_subset"] = subset,
    }));
}
