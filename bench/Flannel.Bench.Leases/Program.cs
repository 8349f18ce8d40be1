using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Flannel.Actors.Leases;
using Flannel.Bench.Leases;
using Flannel.Net.Config;

// Lease convergence benchmark: starts N in-process cluster nodes at once (127.0.0.1, port 0), each asks for a lease,
// and measures the time until every node holds a lease, all leases are distinct, and every node's replicated table
// shows all N of them. Runs each N LEASES_BENCH_RUNS times (default 3) in plain text and with the agent's mutual TLS,
// interleaved, and prints one JSON line per N with both modes side by side: the median converge_s (duplicates summed
// over the runs, leases the smallest count); start_s is the part of converge_s spent creating the N ActorSystems;
// join_up_s the median time from Cluster.Join to the node's own MemberUp (tls_join_extra_s: what TLS adds to it).
// A first line gives the bare cost of one mutual-TLS handshake with the agent's validator. Usage: Flannel.Bench.Leases [N ...]
// (default 5 10 20). A run that does not converge within Harness.AcquireTimeoutS is a timeout, not a time (Convergence):
// its mode's converge_s is null, timed_out_runs counts it, and the process exits 3 after printing every line.
// `--self-check` checks that accounting without starting a cluster (bench/leases.sh runs it first).

if (args is ["--self-check"])
{
    var wrong = Convergence.SelfCheck().Concat(InProcessConnections.SelfCheck()).ToList();
    foreach (var w in wrong) Console.Error.WriteLine($"leases self-check: {w}");
    return wrong.Count == 0 ? 0 : 1;
}
var sizes = args is [_, ..] && args[0] != "--handshakes" ? args.Select(int.Parse).ToArray() : [5, 10, 20];
// N actor systems in one process share one .NET thread pool, which on 2 cores starts with 2 threads and adds about one
// per half second while they block (ActorSystem.Create waits for its remoting to bind, Ask waits in tests): that
// starvation, not the lease protocol, was most of a run. Real agents are one system per process.
ThreadPool.SetMinThreads(Math.Max(64, Environment.ProcessorCount), Math.Max(64, Environment.ProcessorCount));
var verbose = Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1";
var tls = new BenchTls();
var trustStoreLock = TrustStoreLock.Start(tls.Node(0).Certificate);
if (args is ["--handshakes"])
{
    // Each variant's cost per mutual-TLS handshake (HandshakeBench), one JSON line each, then exit.
    var (rsaA, rsaB) = tls.RsaPair();
    HandshakeBench.Variant[] variants =
    [
        new("tcp_connect_only", tls.Node(0), tls.Node(1), Check: false, HandshakeBench.AkkaProtocols, Tls: false),
        new("agent_ecdsa_p256_tls12", tls.Node(0), tls.Node(1), Check: true, HandshakeBench.AkkaProtocols),
        new("ecdsa_p256_tls12_accept_all", tls.Node(0), tls.Node(1), Check: false, HandshakeBench.AkkaProtocols),
        new("rsa2048_tls12", rsaA, rsaB, Check: true, HandshakeBench.AkkaProtocols),
        new("ecdsa_p256_tls13_not_offered_by_akka", tls.Node(0), tls.Node(1), Check: true, System.Security.Authentication.SslProtocols.Tls13),
        new("rsa2048_tls13_not_offered_by_akka", rsaA, rsaB, Check: true, System.Security.Authentication.SslProtocols.Tls13),
    ];
    for (var round = 0; round < (Environment.GetEnvironmentVariable("HANDSHAKE_ROUNDS") is { } hr ? int.Parse(hr) : 2); round++)
        foreach (var v in variants)
        {
            var h = await HandshakeBench.MeasureAsync(v, 200);
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["handshake"] = h.Name, ["round"] = round, ["wall_ms"] = h.WallMs, ["cpu_ms"] = h.CpuMs, ["min_wall_ms"] = h.MinWallMs,
                ["protocol"] = h.Protocol, ["cipher"] = h.Cipher, ["samples"] = 200, ["loadavg_1m"] = Harness.LoadAverage(),
            }));
        }
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["validator_check_cpu_ms"] = HandshakeBench.ValidatorCpuMs(tls.Node(0), tls.Node(1).Certificate, 500),
        ["validator_check_rsa_cpu_ms"] = HandshakeBench.ValidatorCpuMs(rsaA, rsaB.Certificate, 500),
        ["system_trust_chain_build_cpu_ms"] = HandshakeBench.SystemChainCpuMs(tls.Node(1).Certificate, 500),
    }));
    tls.Delete();
    return 0;
}
var agentHandshake = await HandshakeBench.MeasureAsync(
    new HandshakeBench.Variant("agent", tls.Node(0), tls.Node(1), Check: true, HandshakeBench.AkkaProtocols), 50);
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["tls_handshake_ms"] = agentHandshake.WallMs,
    ["tls_handshake_cpu_ms"] = agentHandshake.CpuMs,
    ["samples"] = 50,
    ["min_ms"] = agentHandshake.MinWallMs,
}));
// Warm-up (not reported): the first ActorSystems of a process pay for JIT compilation of Akka's startup path.
await Run(2, verbose: false, tls: null);
await Run(2, verbose: false, tls: tls);
// LEASES_BENCH_MODES: "plain", "tls" or both (default "plain,tls").
var modes = (Environment.GetEnvironmentVariable("LEASES_BENCH_MODES") ?? "plain,tls").Split(',', StringSplitOptions.TrimEntries);
var runs = int.TryParse(Environment.GetEnvironmentVariable("LEASES_BENCH_RUNS"), out var r) && r > 0 ? r : 3;
var timeouts = new List<string>();
foreach (var n in sizes)
{
    var plain = new List<Dictionary<string, object?>>();
    var secured = new List<Dictionary<string, object?>>();
    for (var i = 0; i < runs; i++)
    {
        if (modes.Contains("plain")) plain.Add(await Run(n, verbose, tls: null));
        if (modes.Contains("tls")) secured.Add(await Run(n, verbose, tls));
    }
    var line = new Dictionary<string, object?>
    {
        ["nodes"] = n,
        ["harness"] = new Dictionary<string, object>
        {
            ["cluster_gossip_ms"] = Harness.GossipMs(n),
            ["acceptable_heartbeat_pause_s"] = Harness.PauseS(n),
            ["claim_retry_ms"] = Harness.RetryMs(n),
            ["majority_timeout_s"] = Harness.MajorityTimeoutS(n),
            ["cores"] = Environment.ProcessorCount,
            ["gc_gen0_budget"] = Harness.Gen0Budget(),
            ["loadavg_1m"] = Harness.LoadAverage(),
            ["trust_store_lock"] = trustStoreLock,
        },
    };
    foreach (var (mode, results) in new[] { ("plain", plain), ("tls", secured) }.Where(m => m.Item2.Count > 0))
    {
        var summary = Convergence.Summary(results);
        line[mode] = summary;
        if (summary["timed_out_runs"] is int t and > 0)
            timeouts.Add($"N={n} {mode}: {t} of {results.Count} runs did not converge within {Harness.AcquireTimeoutS} s");
    }
    if (plain.Count > 0 && secured.Count > 0 &&
        ((Dictionary<string, object?>)line["tls"]!)["join_up_s"] is double tlsJoin && ((Dictionary<string, object?>)line["plain"]!)["join_up_s"] is double plainJoin)
        line["tls_join_extra_s"] = Math.Round(tlsJoin - plainJoin, 3);
    Console.WriteLine(JsonSerializer.Serialize(line));
}
tls.Delete();
foreach (var t in timeouts) Console.Error.WriteLine($"leases: timed out: {t}");
return timeouts.Count == 0 ? 0 : 3;

static async Task<Dictionary<string, object?>> Run(int n, bool verbose, BenchTls? tls)
{
    var config = ConfigurationFactory.ParseString($$"""
        akka {
          # Terminating all nodes at once logs Disassociated errors that say nothing about leases (BENCH_LOGLEVEL to see).
          loglevel = {{Environment.GetEnvironmentVariable("BENCH_LOGLEVEL") ?? "OFF"}}
          stdout-loglevel = {{Environment.GetEnvironmentVariable("BENCH_LOGLEVEL") ?? "OFF"}}
          actor.provider = cluster
          # Cluster membership tuned for quick joins; the lease table's DData timings come from LeaseConfig.Default.
          remote.dot-netty.tcp {
            hostname = 127.0.0.1
            port = 0
            # 20 systems in one process on 2 cores: one socket thread each instead of the default pools.
            server-socket-worker-pool { pool-size-min = 1, pool-size-max = 1 }
            client-socket-worker-pool { pool-size-min = 1, pool-size-max = 1 }
          }
          cluster {
            gossip-interval = {{Harness.GossipMs(n)}}ms
            leader-actions-interval = {{Harness.GossipMs(n)}}ms
            periodic-tasks-initial-delay = 100ms
            failure-detector { heartbeat-interval = 500ms, acceptable-heartbeat-pause = {{Harness.PauseS(n)}}s }
            singleton.hand-over-retry-interval = 200ms
            singleton-proxy.singleton-identification-interval = 200ms
          }
          coordinated-shutdown.run-by-clr-shutdown-hook = off
        }
        flannel.leases.majority-timeout = {{Harness.MajorityTimeoutS(n)}}s
        """).WithFallback(LeaseConfig.Default);
    // BENCH_HOCON: settings above the bench's own (to try timings without a rebuild).
    if (Environment.GetEnvironmentVariable("BENCH_HOCON") is { Length: > 0 } extra)
        config = ConfigurationFactory.ParseString(extra).WithFallback(config);
    // The agent's TLS settings (enable-ssl and the transport heartbeat that bounds DotNetty's first-reply stall).
    if (tls is not null) config = ConfigurationFactory.ParseString(Flannel.Host.Hosting.AkkaConfigBuilder.TlsHocon).WithFallback(config);
    var conf = NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""");
    // Baseline after a full collection, so garbage of the previous run does not count as this run's memory.
    GC.Collect();
    GC.WaitForPendingFinalizers();
    long baselineRss;
    using (var before = Process.GetCurrentProcess()) baselineRss = before.WorkingSet64;
    var baselineHeap = GC.GetTotalMemory(forceFullCollection: true);
    var gcPause0 = GC.GetTotalPauseDuration();
    var checks0 = tls?.PeerChecks ?? 0;
    TimeSpan cpuStart;
    using (var self0 = Process.GetCurrentProcess()) cpuStart = self0.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    void Log(string what)
    {
        if (verbose) Console.Error.WriteLine($"[{sw.Elapsed.TotalSeconds,6:F2}s] {what}");
    }

    // Node 0 seeds; the others are created concurrently, as when a DaemonSet starts everywhere at once.
    var joinUp = new double[n];
    var upAt = new double[n];
    IActorRef StartNode(int i, Address? seedAddress, out ActorSystem system)
    {
        var setup = BootstrapSetup.Create().WithConfig(config).And(new LeaseAllocatorSetup(conf));
        system = ActorSystem.Create("flannel", tls is null ? setup : setup.And(tls.For(i)));
        var cluster = Cluster.Get(system);
        var joined = sw.Elapsed;
        cluster.RegisterOnMemberUp(() =>
        {
            joinUp[i] = (sw.Elapsed - joined).TotalSeconds;
            upAt[i] = sw.Elapsed.TotalSeconds;
        });
        cluster.Join(seedAddress ?? cluster.SelfAddress);
        var options = new LeaseOptions($"node-{i}", IPAddress.Parse($"192.0.2.{i + 1}"), conf, "vxlan", null, null, null,
            LeaseOptions.DefaultTtl, LeaseOptions.DefaultRenewMargin) { RetryInterval = TimeSpan.FromMilliseconds(Harness.RetryMs(n)) };
        return system.ActorOf(SubnetLeaseActor.Props(options), "subnet-lease");
    }

    var first = StartNode(0, null, out var seedSystem);
    var seed = Cluster.Get(seedSystem).SelfAddress;
    var rest = await Task.WhenAll(Enumerable.Range(1, n - 1).Select(i => Task.Run(() =>
    {
        var actor = StartNode(i, seed, out var system);
        return (actor, system);
    })));
    var systems = new List<ActorSystem> { seedSystem };
    systems.AddRange(rest.Select(r => r.system));
    var actors = new List<IActorRef> { first };
    actors.AddRange(rest.Select(r => r.actor));
    var started = sw.Elapsed.TotalSeconds;
    Log($"{n} systems created");

    var granted = 0;
    using var progress = verbose ? new Timer(_ =>
    {
        var state = Cluster.Get(seedSystem).State;
        using var self = Process.GetCurrentProcess();
        Log($"seed sees {state.Members.Count(m => m.Status == MemberStatus.Up)} Up, {state.Members.Count(m => m.Status == MemberStatus.Joining)} Joining, " +
            $"{state.Unreachable.Count} unreachable; {Volatile.Read(ref granted)} leases; threads {self.Threads.Count}, " +
            $"cpu {self.TotalProcessorTime.TotalSeconds:F1} s, gc pauses {GC.GetTotalPauseDuration().TotalSeconds:F1} s, rss {self.WorkingSet64 / 1048576} MiB");
    }, null, 1000, 1000) : null;
    // A node whose acquire times out counts as not converged (the run reports it) instead of ending the benchmark.
    var acquired = await Task.WhenAll(actors.Select(async a =>
    {
        try
        {
            var reply = await a.Ask<object>(AcquireLease.Instance, TimeSpan.FromSeconds(Harness.AcquireTimeoutS));
            Interlocked.Increment(ref granted);
            return reply;
        }
        catch (AskTimeoutException e)
        {
            return e;
        }
    }));
    Log("all acquire replies in");
    // An overloaded node answers late; a missing answer is "not converged yet", never the end of the benchmark.
    static async Task<LeaseSnapshot?> TableOf(IActorRef a)
    {
        try { return await a.Ask<LeaseSnapshot>(GetLeases.Instance, TimeSpan.FromSeconds(30)); }
        catch (AskTimeoutException) { return null; }
    }
    var leases = acquired.OfType<LeaseAcquired>().Select(a => a.Lease).ToList();
    var duplicates = leases.Count - leases.Select(l => l.Subnet).Distinct().Count();

    var deadline = TimeSpan.FromSeconds(Harness.AcquireTimeoutS);
    var converged = false;
    while (sw.Elapsed < deadline && leases.Count == n)
    {
        var tables = await Task.WhenAll(actors.Select(TableOf));
        if (tables.All(t => t is not null && t.Leases.Count == n && leases.All(l => t.Leases.TryGetValue(l.Subnet, out var x) && x.Node == l.Node)))
        {
            converged = true;
            break;
        }
        // Polling N actors is itself load on the shared cores: every 20 ms at 20 nodes, every 200 ms at 100.
        await Task.Delay(Math.Max(20, 2 * n));
    }
    // A run that did not converge has no convergence time (Convergence): null, never the deadline as a time.
    var converge = Convergence.Seconds(converged, sw.Elapsed);
    // The CPU the process spent until then: on a shared machine a steadier measure of the work than the wall clock.
    double cpuToConverge;
    using (var self1 = Process.GetCurrentProcess()) cpuToConverge = (self1.TotalProcessorTime - cpuStart).TotalSeconds;
    // Every GC stops all N nodes at once (one heap); a real agent's pauses are its own.
    var gcPause = (GC.GetTotalPauseDuration() - gcPause0).TotalSeconds;
    // Connections between the nodes now, and TLS handshakes completed so far (each end checks the other's certificate).
    var connections = InProcessConnections.Count();
    var handshakes = tls is null ? 0 : (tls.PeerChecks - checks0) / 2;
    Log(converged ? "tables converged" : "NOT converged");

    var finalTables = (await Task.WhenAll(actors.Select(TableOf))).Where(t => t is not null).Select(t => t!).ToList();
    // What N idle nodes cost in one process: memory per node over the process's baseline, and the CPU the converged
    // cluster burns doing nothing but heartbeats and gossip (the harness's own floor, shared by all N nodes).
    using var me = Process.GetCurrentProcess();
    var rssPerNodeMiB = (me.WorkingSet64 - baselineRss) / 1048576.0 / n;
    // The managed heap after a full collection: what the N nodes keep alive (RSS also holds freed but unreturned pages).
    var heapPerNodeMiB = (GC.GetTotalMemory(forceFullCollection: true) - baselineHeap) / 1048576.0 / n;
    var cpu0 = me.TotalProcessorTime;
    var idle = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(3));
    me.Refresh();
    var idleCores = (me.TotalProcessorTime - cpu0).TotalSeconds / idle.Elapsed.TotalSeconds;
    var threads = me.Threads.Count;
    await Task.WhenAll(systems.Select(s => s.Terminate()));
    return new Dictionary<string, object?>
    {
        ["nodes"] = n,
        ["converge_s"] = converge,
        ["timed_out_after_s"] = converged ? null : Math.Round(sw.Elapsed.TotalSeconds, 3),
        ["start_s"] = Math.Round(started, 3),
        ["duplicates"] = duplicates,
        ["leases"] = leases.Count,
        // -1: some node did not even answer for its table (overloaded); the run counts as not converged.
        ["min_table"] = finalTables.Count < n ? -1 : finalTables.Min(t => t.Leases.Count),
        ["converged"] = converged,
        // When the last node became Up (membership: Akka Cluster's join, not the lease layer) and what the lease layer
        // took after that (converge_s - all_up_s): splits a slow run into harness/membership and lease protocol.
        ["all_up_s"] = Math.Round(upAt.Max(), 3),
        ["lease_after_up_s"] = converge is { } c ? Math.Round(c - upAt.Max(), 3) : null,
        ["rss_per_node_mib"] = Math.Round(rssPerNodeMiB, 1),
        ["heap_per_node_mib"] = Math.Round(heapPerNodeMiB, 2),
        ["idle_cores"] = Math.Round(idleCores, 2),
        ["threads"] = threads,
        ["gc_pause_s"] = Math.Round(gcPause, 2),
        ["gc_pause_share"] = converge is { } cs ? Math.Round(gcPause / cs, 2) : null,
        ["cpu_s"] = Math.Round(cpuToConverge, 2),
        ["connections"] = connections,
        ["connections_per_pair"] = InProcessConnections.PerPair(connections, n),
        ["tls_handshakes"] = handshakes,
        // The joiners only: the seed joins itself.
        ["join_up_all"] = joinUp.Skip(1).ToArray(),
    };
}
