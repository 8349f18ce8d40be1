using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using Flannel.Bench.KubeScale;
using Flannel.Demo;

// Kubernetes at scale (issue 13): the test API server with NODES Nodes and ONE flanneld --kube-subnet-mgr in a network
// namespace. Baseline first (the same agent with only its own Node), then NODES Nodes: time from exec until the agent's
// node watcher holds every Node, RSS, then CHURN_RATE Node writes per second for CHURN_SECONDS s and whether the agent
// keeps up. Prints one JSON line. Needs root. See bench/kube-scale.sh.
var serverExe = Environment.GetEnvironmentVariable("FLANNEL_KUBE_TEST_SERVER")
                ?? throw new InvalidOperationException("set FLANNEL_KUBE_TEST_SERVER (bench/kube-scale.sh does)");
var nodes = EnvInt("NODES", 1000);
var churnSeconds = EnvInt("CHURN_SECONDS", 60);
var churnRate = EnvInt("CHURN_RATE", 50);
if (nodes is < 1 or > 29_000) throw new ArgumentException($"NODES must be 1..29000 (podCIDRs 10.129-10.242.x.0/24), not {nodes}");
if (churnRate < 1) throw new ArgumentException($"CHURN_RATE must be at least 1, not {churnRate}");
// How long the 1-Node agent stays up after ready before its steady memory, threads and idle CPU are read.
const int IdleAfterSeconds = 30;
var settleSeconds = EnvInt("BASELINE_SETTLE_SECONDS", 90);
if (settleSeconds < IdleAfterSeconds + 10)
    throw new ArgumentException($"BASELINE_SETTLE_SECONDS must be at least {IdleAfterSeconds + 10} (the start-up pages go 20 s after ready), not {settleSeconds}");

using var cts = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cts.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
var ct = cts.Token;

// FLANNELD=path benches another build of the agent (e.g. a ReadyToRun publish); default: the one built beside the bench.
var flanneld = FlanneldBinary.Locate();
var options = new TopologyOptions($"ksc{Environment.ProcessId % 100000}", flanneld)
{
    Hosts = 1,
    Backend = "vxlan",
    Network = IPNetwork.Parse(NodeObjects.Network),
    NetConfJson = KubeTopology.NetConf("vxlan", NodeObjects.Network),
    StateRoot = "/run/flannel-bench",
    KeepLogsIn = Environment.GetEnvironmentVariable("KEEP_LOGS"),
};
using var kube = KubeTopology.Create(options, serverExe);
var host = kube.Cluster.Hosts[0];
using var api = new ApiClient(kube.Cluster.UnderlayNamespace, kube.ApiAddress, KubeTopology.ApiPort);
var server = Netns.Pids(kube.Cluster.UnderlayNamespace).Single(pid => ProcessStats.Command(pid).StartsWith("kube-test-serv", StringComparison.Ordinal));

// 1. Baseline: the agent with only its own Node, measured at the same points as below.
var baseline = await StartAndSyncAsync(1);
var rssBaseline = ProcessStats.RssMib(baseline.Pid);
var heapBaseline = AgentMetrics.HeapMib(await host.Client!.MetricsAsync(ct));
GcDump(baseline.Pid, "baseline");
Log($"baseline (1 node): synced {baseline.SyncS:0.00} s (list {baseline.ListS:0.00} s), ready {baseline.ReadyS:0.00} s after exec, RSS {rssBaseline:0.0} MiB");
// The same agent left alone: it gives its start-up pages back 20 s after ready (--release-startup-pages), so only
// this reading is its steady memory; nothing scrapes it in the window, so the CPU is its own idle work.
await Task.Delay(TimeSpan.FromSeconds(IdleAfterSeconds), ct);
var idleStart = ProcSample.Read(baseline.Pid);
await Task.Delay(TimeSpan.FromSeconds(settleSeconds - IdleAfterSeconds), ct);
var settled = ProcSample.Read(baseline.Pid);
var settledIdle = ProcSample.Rates(idleStart, settled, settleSeconds - IdleAfterSeconds);
Log($"baseline {settleSeconds} s after ready: RSS {settled.RssMib:0.0} MiB (anon {settled.AnonMib:0.0}), {settled.Threads} threads, " +
    $"idle CPU {settledIdle.CpuPct:0.00} % of a core, {settledIdle.WakeupsPerS:0.0} wake-ups/s (last {settleSeconds - IdleAfterSeconds} s)");
kube.Cluster.StopAgent(host);

// 2. NODES Nodes through the API (8 writers), then the agent again.
var create = Stopwatch.StartNew();
await Parallel.ForEachAsync(Enumerable.Range(0, nodes), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
    async (i, c) => await api.CreateNodeAsync(NodeObjects.Node(i), c));
var createS = create.Elapsed.TotalSeconds;
Log($"created {nodes} nodes in {createS:0.00} s ({nodes / createS:0} writes/s)");
var (apiCount, _) = await api.CountNodesAsync(ct);
// Let the burst's after-effects (the API server's and this process's GC and tier-1 JIT) pass before timing a start.
await Task.Delay(5000, ct);
var scaled = await StartAndSyncAsync(apiCount);
var rssSynced = ProcessStats.RssMib(scaled.Pid);
var heapSynced = AgentMetrics.HeapMib(await host.Client!.MetricsAsync(ct));
GcDump(scaled.Pid, "after-sync");
var cpuSynced = ProcessStats.CpuSeconds(scaled.Pid);
Log($"{apiCount} nodes: synced {scaled.SyncS:0.00} s (list {scaled.ListS:0.00} s), ready {scaled.ReadyS:0.00} s after exec, RSS {rssSynced:0.0} MiB, CPU {cpuSynced:0.00} s");

// 3. Churn, sampling the agent's backlog once a second.
var driver = new ChurnDriver(api, Enumerable.Range(0, nodes), nodes);
var serverCpu0 = ProcessStats.CpuSeconds(server);
var cpu0 = ProcessStats.CpuSeconds(scaled.Pid);
using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
long maxBacklog = 0;
var sampler = Task.Run(async () =>
{
    while (!sampling.IsCancellationRequested)
    {
        var m = AgentMetrics.Parse(await host.Client!.MetricsAsync(sampling.Token));
        if (m is not null) maxBacklog = Math.Max(maxBacklog, driver.MaxResourceVersion - m.ResourceVersion);
        try { await Task.Delay(1000, sampling.Token); } catch (OperationCanceledException) { }
    }
});
var churn = await driver.RunAsync(churnRate, TimeSpan.FromSeconds(churnSeconds), ct);
Log($"churn: {churn.Writes} writes in {churn.Seconds:0.0} s ({churn.Writes / churn.Seconds:0.0}/s), {churn.Failed} failed " +
    $"({string.Join(", ", churn.Kinds.Select(k => $"{k.Key} {k.Value}"))}){(churn.FirstError is null ? "" : "; first error: " + churn.FirstError)}");

// 4. Lag: from the last write's answer until the agent applied a resourceVersion at least as new.
var caughtUp = await UntilAsync(m => m.ResourceVersion >= churn.MaxResourceVersion, TimeSpan.FromSeconds(120));
var lagS = caughtUp is null ? (double?)null : Math.Max(0, (caughtUp.Value.At - churn.LastWriteDone).TotalSeconds);
await sampling.CancelAsync();
await sampler;
var cpuChurn = ProcessStats.CpuSeconds(scaled.Pid) - cpu0;
var serverCpuChurn = ProcessStats.CpuSeconds(server) - serverCpu0;
var (finalCount, _) = await api.CountNodesAsync(ct);
var final = await UntilAsync(m => m.Nodes == finalCount, TimeSpan.FromSeconds(10));
var rssChurn = ProcessStats.RssMib(scaled.Pid);
var heapChurn = AgentMetrics.HeapMib(await host.Client!.MetricsAsync(ct));
GcDump(scaled.Pid, "after-churn");

// 5. The agent's CPU with nothing changing (Akka's timers, the reconcile loop, the status loop, the scrapes), for the
// churn's own share; measured after the churn, when start-up work (JIT tiering) is long over.
var idleWindow = TimeSpan.FromSeconds(10);
var idleCpu0 = ProcessStats.CpuSeconds(scaled.Pid);
// Scraped once a second as during the churn, so the scrapes' cost is part of the baseline.
for (var second = 0; second < idleWindow.TotalSeconds; second++)
{
    await host.Client!.MetricsAsync(ct);
    await Task.Delay(1000, ct);
}
var idleCpuPerS = (ProcessStats.CpuSeconds(scaled.Pid) - idleCpu0) / idleWindow.TotalSeconds;

Log($"caught up {(lagS is null ? "never (120 s)" : $"{lagS:0.00} s")} after the last write; agent knows {final?.Metrics.Nodes.ToString(CultureInfo.InvariantCulture) ?? "?"} of {finalCount} nodes; " +
    $"RSS {rssChurn:0.0} MiB; agent CPU {cpuChurn:0.00} s, API server CPU {serverCpuChurn:0.00} s during churn, agent CPU {idleCpuPerS:0.000} s/s idle");

var latencies = churn.LatenciesMs.Order().ToList();
Console.WriteLine(JsonSerializer.Serialize(new
{
    nodes = apiCount,
    initial_sync_s = Round(scaled.SyncS),
    list_s = Round(scaled.ListS),
    ready_s = Round(scaled.ReadyS),
    baseline_sync_s = Round(baseline.SyncS),
    baseline_list_s = Round(baseline.ListS),
    baseline_ready_s = Round(baseline.ReadyS),
    rss_before_mib = Round(rssBaseline, 1),
    baseline_settled_s = settleSeconds,
    baseline_rss_settled_mib = Round(settled.RssMib, 1),
    baseline_anon_settled_mib = Round(settled.AnonMib, 1),
    baseline_threads_settled = settled.Threads,
    baseline_idle_cpu_pct = Round(settledIdle.CpuPct),
    rss_after_sync_mib = Round(rssSynced, 1),
    rss_after_churn_mib = Round(rssChurn, 1),
    heap_before_mib = Round(heapBaseline ?? 0, 1),
    heap_after_sync_mib = Round(heapSynced ?? 0, 1),
    heap_after_churn_mib = Round(heapChurn ?? 0, 1),
    churn_updates = churn.Writes,
    churn_failed = churn.Failed,
    churn_rate_per_s = Round(churn.Writes / churn.Seconds, 1),
    final_lag_s = lagS is null ? (double?)null : Round(lagS.Value),
    max_backlog_events = maxBacklog,
    consistent = final is not null,
    cpu_s = Round(cpuChurn),
    cpu_idle_per_s = Round(idleCpuPerS, 3),
    cpu_per_update_ms = Round(Math.Max(0, cpuChurn - idleCpuPerS * churn.Seconds) / Math.Max(1, churn.Writes) * 1000, 3),
    cpu_sync_s = Round(cpuSynced),
    api_server_cpu_s = Round(serverCpuChurn),
    api_write_p50_ms = Round(Percentile(latencies, 0.5), 1),
    api_write_p99_ms = Round(Percentile(latencies, 0.99), 1),
    create_nodes_per_s = Round(nodes / createS, 0),
    load = File.ReadAllText("/proc/loadavg").Split(' ')[0],
}));
return lagS is null || final is null ? 1 : 0;

// Starts the agent and waits until its node watcher holds `expected` Nodes from a complete list, then until /readyz.
async Task<(int Pid, double SyncS, double ListS, double ReadyS)> StartAndSyncAsync(int expected)
{
    var logStart = File.Exists(host.LogFile) ? new FileInfo(host.LogFile).Length : 0;
    var serverCpu = ProcessStats.CpuSeconds(server);
    var clock = Stopwatch.StartNew();
    var exec = DateTimeOffset.UtcNow;
    var agent = kube.Cluster.StartAgent(host, kube.AgentArgs(host));
    // The metrics are served only once the agent is nearly up, so the time comes from the agent's own list timestamp.
    var synced = await UntilAsync(m => m.Lists >= 1 && m.Nodes >= expected && m.ListedAt is not null, TimeSpan.FromSeconds(120), clock)
                 ?? throw new TimeoutException($"the agent did not list {expected} nodes within 120 s\n{ClusterTopology.Tail(host.LogFile, 20)}");
    await kube.Cluster.WaitReadyAsync(TimeSpan.FromSeconds(120), ct: ct);
    var ready = clock.Elapsed.TotalSeconds;
    // Let start-up work (JIT, the agent's own Node patches) settle before memory is read.
    await Task.Delay(3000, ct);
    Log($"  exec -> first log line {(FirstLogLine(host.LogFile, logStart) - exec).TotalSeconds:0.00} s (runtime start-up); " +
        $"API server CPU while the agent started {ProcessStats.CpuSeconds(server) - serverCpu:0.00} s");
    return (agent.Id, (synced.Metrics.ListedAt!.Value - exec).TotalSeconds, synced.Metrics.ListSeconds ?? double.NaN, ready);
}

// Polls /metrics every 50 ms until `done` holds; null on timeout.
async Task<(AgentMetrics Metrics, DateTime At, TimeSpan Elapsed)?> UntilAsync(Func<AgentMetrics, bool> done, TimeSpan timeout, Stopwatch? clock = null)
{
    clock ??= Stopwatch.StartNew();
    var deadline = clock.Elapsed + timeout;
    while (clock.Elapsed < deadline)
    {
        if (host.Agent is { HasExited: true } dead)
            throw new InvalidOperationException($"flanneld exited with {dead.ExitCode}\n{ClusterTopology.Tail(host.LogFile, 20)}");
        var m = AgentMetrics.Parse(await host.Client!.MetricsAsync(ct));
        if (m is not null && done(m)) return (m, DateTime.UtcNow, clock.Elapsed);
        await Task.Delay(50, ct);
    }
    return null;
}

// GCDUMP=dir (and dotnet-gcdump on PATH): a heap dump of the agent at each measuring point, for finding what it keeps
// (`dotnet-gcdump report file`). Off by default: the dump forces a full GC and changes what is measured after it.
static void GcDump(int pid, string name)
{
    if (Environment.GetEnvironmentVariable("GCDUMP") is not { Length: > 0 } dir) return;
    Directory.CreateDirectory(dir);
    var r = ProcessRunner.Run("dotnet-gcdump", ["collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", Path.Combine(dir, name + ".gcdump")],
        TimeSpan.FromSeconds(120));
    Log($"gcdump {name}: {(r.Ok ? "written" : r.Stderr.Trim())}");
}

// The timestamp that starts the agent's first log line written after `offset`.
static DateTimeOffset FirstLogLine(string logFile, long offset)
{
    using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
    stream.Seek(offset, SeekOrigin.Begin);
    using var reader = new StreamReader(stream);
    var line = reader.ReadLine() ?? throw new InvalidOperationException($"{logFile}: nothing logged");
    return DateTimeOffset.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}

static int EnvInt(string name, int fallback) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? int.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture) : fallback;

static double Round(double value, int digits = 2) => Math.Round(value, digits);

static double Percentile(IReadOnlyList<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

static void Log(string line) => Console.Error.WriteLine($"kube-scale: {line}");
