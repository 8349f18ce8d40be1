using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Flannel.Demo;
using Flannel.Testing;

// The footprint of one idle flanneld agent in a 3-host namespace cluster (the demo topology, mutual TLS), per backend.
// Per run: host 1's agent is started alone (a cluster's first node) and timed from exec to /readyz 200, then hosts 2 and
// 3 join one after the other (timed the same way); once every agent has programmed every peer and SETTLE_SECONDS
// passed, each agent is read from /proc over IDLE_SECONDS with no traffic; then pod1 (host 1) -> pod2 (host 2) runs
// iperf3 TCP for LOAD_SECONDS and the agents' RSS is read again 5 s later. Per run the worst agent counts (the one
// with the lease allocator singleton and the leader duties is usually the heaviest); the JSON line holds the medians
// of RUNS runs. Per-run detail and the busiest threads go to stderr.
var flanneld = Environment.GetEnvironmentVariable("FLANNELD") ?? throw new InvalidOperationException("set FLANNELD (bench/footprint.sh does)");
var runs = Env("RUNS", 3);
var idleSeconds = Env("IDLE_SECONDS", 60);
var settleSeconds = Env("SETTLE_SECONDS", 10);
var loadSeconds = Env("LOAD_SECONDS", 60);
var logsDir = Environment.GetEnvironmentVariable("KEEP_LOGS");
var backends = args.Length > 0 ? args : ["udp", "vxlan", "host-gw"];
// Namespaces are named ffp<pid>-…: bench/footprint.sh passes its own PID so its trap can find them after a Ctrl-C.
var prefix = $"ffp{Env("BENCH_PREFIX_PID", Environment.ProcessId) % 10000}";

foreach (var backend in backends)
{
    var perRun = new List<RunResult>();
    for (var run = 1; run <= runs; run++)
    {
        var r = await MeasureRun(backend, run);
        perRun.Add(r);
        Console.Error.WriteLine($"footprint {backend} run {run}: " + JsonSerializer.Serialize(r));
    }
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        backend,
        rss_mib = Median(perRun, r => r.RssMib),
        anon_mib = Median(perRun, r => r.AnonMib),
        file_mib = Median(perRun, r => r.FileMib),
        threads = Median(perRun, r => r.Threads),
        idle_cpu_pct = Median(perRun, r => r.IdleCpuPct, 2),
        idle_child_cpu_pct = Median(perRun, r => r.IdleChildCpuPct, 2),
        wakeups_per_s = Median(perRun, r => r.WakeupsPerS),
        ready_first_s = Median(perRun, r => r.ReadyFirstS, 2),
        ready_joiner_s = Median(perRun, r => r.ReadyJoinerS, 2),
        rss_after_load_mib = Median(perRun, r => r.RssAfterLoadMib),
        anon_after_load_mib = Median(perRun, r => r.AnonAfterLoadMib),
        load_gbps = Median(perRun, r => r.LoadGbps, 2),
        runs,
        idle_seconds = idleSeconds,
        load_seconds = loadSeconds,
        loadavg = File.ReadAllText("/proc/loadavg").Split(' ')[0],
    }));
}
return 0;

async Task<RunResult> MeasureRun(string backend, int run)
{
    var options = new TopologyOptions(prefix, flanneld)
    {
        Backend = backend,
        StateRoot = "/run/flannel-bench",
        // For trying a setting without a rebuild, e.g. EXTRA_AGENT_ARGS="--hocon-file /tmp/x.hocon" (DOTNET_* variables
        // reach the agents as they are).
        ExtraAgentArgs = (Environment.GetEnvironmentVariable("EXTRA_AGENT_ARGS") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
        KeepLogsIn = logsDir is null ? null : Path.Combine(logsDir, $"{backend}-run{run}"),
    };
    using var topology = ClusterTopology.Create(options);
    var ready = new List<double>();
    foreach (var h in topology.Hosts)
    {
        var clock = Stopwatch.StartNew();
        topology.StartAgent(h);
        await WaitReady(h, TimeSpan.FromSeconds(60));
        ready.Add(clock.Elapsed.TotalSeconds);
    }
    await topology.WaitReadyAsync(TimeSpan.FromSeconds(60));
    await Task.Delay(TimeSpan.FromSeconds(settleSeconds));

    var pids = topology.Hosts.Select(h => h.Agent!.Id).ToList();
    var before = pids.Select(ProcSample.Read).ToList();
    await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
    var after = pids.Select(ProcSample.Read).ToList();
    var rates = before.Zip(after, (a, b) => ProcSample.Rates(a, b, idleSeconds)).ToList();
    for (var i = 0; i < pids.Count; i++)
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {backend} run {run} host{i + 1}: rss {after[i].RssMib:0.0} (anon {after[i].AnonMib:0.0}, shmem {after[i].ShmemMib:0.0}, file {after[i].FileMib:0.0}) MiB, " +
            $"{after[i].Threads} threads, {rates[i].CpuPct:0.00} % cpu (+{rates[i].ChildCpuPct:0.00} % in commands it ran), {rates[i].WakeupsPerS:0.0} wake-ups/s; {ProcSample.TopThreads(before[i], after[i], idleSeconds)}\n    threads: {after[i].ThreadNames()}"));

    double gbps = 0;
    if (loadSeconds > 0)
    {
        var pods = topology.Hosts.Take(2).Select(h => topology.CreatePod(h, $"pod{h.Index}")).ToList();
        if (!ClusterTopology.Ping(pods[1], pods[0])) throw new InvalidOperationException($"{backend}: pod2 does not reach pod1");
        gbps = Throughput.Measure(topology, pods[0], pods[1], loadSeconds) / 1e9;
        await Task.Delay(TimeSpan.FromSeconds(5));
    }
    var loaded = pids.Select(ProcSample.Read).ToList();
    if (loadSeconds > 0)
        for (var i = 0; i < pids.Count; i++)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {backend} run {run} host{i + 1} 5 s after the load: rss {loaded[i].RssMib:0.0} (anon {loaded[i].AnonMib:0.0}, file {loaded[i].FileMib:0.0}) MiB, " +
                $"{loaded[i].Threads} threads: {loaded[i].ThreadNames()}"));
    return new RunResult(after.Max(s => s.RssMib), after.Max(s => s.AnonMib), after.Max(s => s.FileMib), after.Max(s => s.Threads),
        rates.Max(x => x.CpuPct), rates.Max(x => x.ChildCpuPct), rates.Max(x => x.WakeupsPerS), ready[0], ready.Skip(1).Max(), loaded.Max(s => s.RssMib), loaded.Max(s => s.AnonMib), gbps);
}

// /readyz of one host polled every 20 ms (the time to ready is what is measured, so the poll is short).
async Task WaitReady(TopologyHost h, TimeSpan timeout) =>
    await Poll.UntilAsync(async () =>
    {
        if (h.Agent is { HasExited: true } p)
            throw new InvalidOperationException($"{h.NodeName}: flanneld exited with {p.ExitCode}\n{ClusterTopology.Tail(h.LogFile, 20)}");
        return await h.Client!.ReadyAsync() is { Ready: true };
    }, timeout, () => $"{h.NodeName} ready\n{ClusterTopology.Tail(h.LogFile, 20)}", 20);

static int Env(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : fallback;

static double Median(List<RunResult> runs, Func<RunResult, double> value, int digits = 1)
{
    var v = runs.Select(value).Order().ToList();
    var m = v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    return Math.Round(m, digits);
}

internal sealed record RunResult(double RssMib, double AnonMib, double FileMib, double Threads, double IdleCpuPct, double IdleChildCpuPct, double WakeupsPerS,
    double ReadyFirstS, double ReadyJoinerS, double RssAfterLoadMib, double AnonAfterLoadMib, double LoadGbps);
