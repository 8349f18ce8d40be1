using System.Globalization;
using System.Text.Json;
using Flannel.Demo;

// Live backend switch outage: for each "from->to" pair, a 3-host cluster in Kubernetes mode (test API server in the
// underlay namespace, flanneld --kube-subnet-mgr) on backend "from"; pod1 (host1) pings pod2 (host2) every 10 ms while
// `kubectl patch configmap kube-flannel-cfg` switches to "to"; runs per pair (switching back between runs, unmeasured).
// One JSON line per pair with medians: lost packets, longest gap without an answer, time until every node runs "to".
var serverExe = Environment.GetEnvironmentVariable("FLANNEL_KUBE_TEST_SERVER")
                ?? throw new InvalidOperationException("set FLANNEL_KUBE_TEST_SERVER (bench/backend-switch.sh does)");
var runs = int.TryParse(Environment.GetEnvironmentVariable("SWITCH_BENCH_RUNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : 3;
var pairs = args.Length > 0 ? args : ["udp->vxlan", "vxlan->udp", "vxlan->host-gw"];
var flanneld = Path.Combine(AppContext.BaseDirectory, "flanneld");
var interval = TimeSpan.FromMilliseconds(10);
// "udp->vxlan" stays readable in the JSON line.
var json = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

foreach (var pair in pairs)
{
    var parts = pair.Split("->");
    if (parts.Length != 2) throw new ArgumentException($"\"{pair}\" is not from->to");
    var (from, to) = (parts[0], parts[1]);
    var options = new TopologyOptions($"fbs{Environment.ProcessId % 10000}", flanneld)
    {
        Backend = from,
        NetConfJson = KubeTopology.NetConf(from),
        StateRoot = "/run/flannel-bench",
    };
    using var kube = KubeTopology.Create(options, serverExe);
    kube.StartAgents();
    await kube.Cluster.WaitReadyAsync(TimeSpan.FromSeconds(90));
    var pods = kube.Cluster.Hosts.Take(2).AsParallel().AsOrdered().Select(h => kube.Cluster.CreatePod(h, $"pod{h.Index}")).ToList();
    if (!ClusterTopology.Ping(pods[0], pods[1])) throw new InvalidOperationException($"{from}: pods do not talk before the switch");

    var samples = new List<(PingLoss Loss, double SwitchS, int Leftovers)>();
    for (var i = 0; i < runs; i++)
    {
        using (var ping = PingRecorder.Start(pods[0], pods[1], interval))
        {
            await Task.Delay(1000);
            kube.PatchNetConf(KubeTopology.NetConf(to));
            var took = await kube.WaitBackendAsync(to, TimeSpan.FromSeconds(60));
            // Until pings flow again (or 10 s), so the gap is measured to its end.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!ClusterTopology.Ping(pods[0], pods[1], 1) && DateTime.UtcNow < deadline) { }
            await Task.Delay(1000);
            var loss = ping.Stop();
            var leftovers = kube.Cluster.Hosts.Sum(h => BackendLeftovers.Find(h, to, options.Network).Count);
            samples.Add((loss, took.TotalSeconds, leftovers));
            Console.Error.WriteLine($"{from}->{to} run {i + 1}: {loss}, all nodes switched in {took.TotalSeconds:0.00} s, {leftovers} leftovers");
        }
        if (i + 1 < runs)
        {
            kube.PatchNetConf(KubeTopology.NetConf(from));
            await kube.WaitBackendAsync(from, TimeSpan.FromSeconds(60));
            await Task.Delay(1000);
        }
    }
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        @switch = $"{from}->{to}",
        runs,
        ping_interval_ms = interval.TotalMilliseconds,
        lost_packets = Median(samples.Select(s => (double)s.Loss.Lost)),
        loss_percent = Math.Round(Median(samples.Select(s => s.Loss.LossPercent)), 1),
        longest_gap_ms = Median(samples.Select(s => s.Loss.LongestGapMs)),
        all_switched_s = Math.Round(Median(samples.Select(s => s.SwitchS)), 2),
        leftovers = samples.Max(s => s.Leftovers),
        longest_gap_ms_all = samples.Select(s => s.Loss.LongestGapMs).ToArray(),
    }, json));
}
return 0;

static double Median(IEnumerable<double> values)
{
    var v = values.Order().ToList();
    return v.Count == 0 ? 0 : v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
}
