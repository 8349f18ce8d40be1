using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Flannel.Bench.Migration;
using Flannel.Demo;

// bench/migration.sh: 3 hosts start on upstream flanneld v0.7.1 (--kube-subnet-mgr, vxlan) against the test API server,
// are replaced by ours one at a time (stop upstream, start ours), then back; a ping matrix between all pods at 10 ms runs
// throughout. Prints per step the lost pings and the longest gap per pair (a table on stderr, one JSON line per step on
// stdout); exits 1 when any pair stays unreachable for more than 2 s in any step.
// Environment: FLANNEL_UPSTREAM_FLANNELD (the built v0.7.1 binary), FLANNEL_KUBE_TEST_SERVER, FLANNEL_CNI_PLUGIN; FLANNELD.
var upstreamBinary = Environment.GetEnvironmentVariable("FLANNEL_UPSTREAM_FLANNELD") ?? throw new InvalidOperationException("set FLANNEL_UPSTREAM_FLANNELD");
var testServer = Environment.GetEnvironmentVariable("FLANNEL_KUBE_TEST_SERVER") ?? throw new InvalidOperationException("set FLANNEL_KUBE_TEST_SERVER");
// FLANNELD=path runs another build of ours (e.g. main's, as a control that the bench can fail).
var flanneld = FlanneldBinary.Locate();
var maxGapMs = 2000.0;
var interval = TimeSpan.FromMilliseconds(10);
void Say(string s) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {s}");

// Every directory level created for the mount points, removed again (innermost first, only when empty) at the end.
var createdMountPoints = new List<string>();
foreach (var dir in new[] { UpstreamFlanneld.ServiceAccountMount, UpstreamFlanneld.ConfMount, UpstreamFlanneld.RunMount })
{
    var missing = new Stack<string>();
    for (var d = dir; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Push(d);
    Directory.CreateDirectory(dir);
    createdMountPoints.AddRange(missing);
}

var kube = KubeTopology.Create(new TopologyOptions($"mg{Environment.ProcessId % 10000}", flanneld)
{
    Backend = "vxlan",
    NetConfJson = KubeTopology.NetConf("vxlan"),
    StateRoot = "/run/flannel-bench",
    KeepLogsIn = Environment.GetEnvironmentVariable("KEEP_LOGS"),
}, testServer);
var topology = kube.Cluster;
UpstreamFlanneld? upstream = null;
PingMatrix? matrix = null;
var failed = new List<string>();
try
{
    // v0.7.1 only knows in-cluster config, i.e. https: a TLS front (socat) for the test API server, its certificate
    // as the service account's ca.crt.
    var tls = Directory.CreateDirectory(Path.Combine(topology.StateDir, "upstream-tls")).FullName;
    var sa = Directory.CreateDirectory(Path.Combine(topology.StateDir, "serviceaccount")).FullName;
    var conf = Directory.CreateDirectory(Path.Combine(topology.StateDir, "kube-flannel")).FullName;
    ProcessRunner.Check("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
        "-subj", "/CN=kube-test-server", "-addext", $"subjectAltName=IP:{kube.ApiAddress}",
        "-keyout", Path.Combine(tls, "key.pem"), "-out", Path.Combine(tls, "cert.pem"));
    File.WriteAllText(Path.Combine(tls, "server.pem"), File.ReadAllText(Path.Combine(tls, "cert.pem")) + File.ReadAllText(Path.Combine(tls, "key.pem")));
    File.Copy(Path.Combine(tls, "cert.pem"), Path.Combine(sa, "ca.crt"));
    File.WriteAllText(Path.Combine(sa, "token"), "migration-bench");
    File.WriteAllText(Path.Combine(sa, "namespace"), "kube-flannel");
    File.WriteAllText(Path.Combine(conf, "net-conf.json"), KubeTopology.NetConf("vxlan"));
    const int tlsPort = 6444;
    topology.StartInNamespace(topology.UnderlayNamespace, "socat",
        [$"OPENSSL-LISTEN:{tlsPort},bind={kube.ApiAddress},reuseaddr,fork,cert={Path.Combine(tls, "server.pem")},verify=0", $"TCP:{kube.ApiAddress}:{KubeTopology.ApiPort}"],
        Path.Combine(topology.StateDir, "socat.log"));
    upstream = new UpstreamFlanneld(topology, upstreamBinary, sa, conf, kube.ApiAddress.ToString(), tlsPort);

    // The upstream DaemonSet's pods carry another label than ours (app=flannel): our agents find their seeds by that
    // label, and an upstream pod never answers our bootstrap probe (see README, "Migrating from upstream flannel").
    foreach (var h in topology.Hosts)
    {
        // A kubelet annotates its Node at registration; v0.7.1 panics on a Node without any annotation (nil map).
        kube.Kubectl("annotate", "node", h.NodeName, "node.alpha.kubernetes.io/ttl=0", "volumes.kubernetes.io/controller-managed-attach-detach=true");
        kube.Kubectl("delete", "pod", "-n", "kube-flannel", $"kube-flannel-ds-{h.NodeName}");
        CreatePod(h, ours: false);
    }
    Say("starting upstream flanneld v0.7.1 on every host");
    foreach (var h in topology.Hosts) upstream.Start(h);
    await WaitAsync(() => topology.Hosts.All(h => File.Exists(h.SubnetFile)), TimeSpan.FromSeconds(60), "upstream subnet.env on every host", topology.Hosts.Select(upstream.LogFile));
    var pods = topology.Hosts.AsParallel().AsOrdered().Select(h => topology.CreatePod(h, $"pod{h.Index}")).ToList();
    await WaitAsync(() => AllPairsAnswer(pods), TimeSpan.FromSeconds(30), "every pod pair answers under upstream flannel", topology.Hosts.Select(upstream.LogFile));

    matrix = new PingMatrix(pods, interval);
    var steps = new List<(string Name, Func<Task> Do)> { ("all upstream", () => Task.Delay(5000)) };
    foreach (var h in topology.Hosts) steps.Add(($"{h.NodeName}: upstream -> ours", () => ToOurs(h)));
    foreach (var h in topology.Hosts) steps.Add(($"{h.NodeName}: ours -> upstream", () => ToUpstream(h)));
    steps.Add(("all upstream again", () => Task.Delay(5000)));

    foreach (var (name, step) in steps)
    {
        matrix.Start();
        var sw = Stopwatch.StartNew();
        await Task.Delay(1000);
        await step();
        await Task.Delay(3000);
        var seen = matrix.Stop();
        var worst = seen.MaxBy(s => s.Loss.LongestGapMs);
        Say($"{name} ({sw.Elapsed.TotalSeconds:0.0} s): lost {seen.Sum(s => s.Loss.Lost)}/{seen.Sum(s => s.Loss.Sent)}, longest gap {worst.Loss.LongestGapMs:0} ms ({worst.Pair})");
        foreach (var (pair, loss) in seen) Say($"    {pair,-12} {loss}");
        var json = new JsonObject
        {
            ["step"] = name,
            ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 1),
            ["interval_ms"] = interval.TotalMilliseconds,
            ["pairs"] = new JsonObject(seen.Select(s => KeyValuePair.Create(s.Pair, (JsonNode?)new JsonObject
            {
                ["sent"] = s.Loss.Sent, ["lost"] = s.Loss.Lost, ["longest_gap_ms"] = Math.Round(s.Loss.LongestGapMs),
            }))),
            ["load"] = File.ReadAllText("/proc/loadavg").Trim(),
        };
        Console.WriteLine(json.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        foreach (var (pair, loss) in seen)
            if (loss.LongestGapMs > maxGapMs || loss.Received == 0) failed.Add($"{name}: {pair} {loss}");
    }

    var errors = topology.Hosts.SelectMany(h => File.Exists(upstream.LogFile(h)) ? File.ReadLines(upstream.LogFile(h)).Where(l => l.StartsWith('E')).Select(l => $"{h.NodeName}: {l}") : []).ToList();
    // v0.7.1's own shutdown bug: on SIGTERM its kube WatchLease returns an empty result and subnet.WatchLease indexes it
    // (panic after "Exiting..."); reported apart from errors while it runs.
    var exitPanics = topology.Hosts.Sum(h => File.Exists(upstream.LogFile(h)) ? File.ReadLines(upstream.LogFile(h)).Count(l => l.StartsWith("panic:", StringComparison.Ordinal)) : 0);
    Say($"upstream flanneld error lines: {errors.Count}; panics at exit (v0.7.1's SIGTERM bug): {exitPanics}");
    foreach (var e in errors.Take(20)) Say("    " + e);
}
finally
{
    matrix?.Dispose();
    upstream?.StopAll();
    if (Environment.GetEnvironmentVariable("KEEP_LOGS") is { Length: > 0 } keep && upstream is not null)
        foreach (var h in topology.Hosts.Where(h => File.Exists(upstream.LogFile(h))))
            File.Copy(upstream.LogFile(h), Path.Combine(Directory.CreateDirectory(keep).FullName, $"{h.NodeName}-upstream-flanneld.log"), overwrite: true);
    kube.Dispose();
    foreach (var dir in Enumerable.Reverse(createdMountPoints)) try { Directory.Delete(dir); } catch (IOException) { }
}
if (failed.Count > 0)
{
    Console.Error.WriteLine($"migration: FAILED, a pair unreachable > {maxGapMs} ms:\n  " + string.Join("\n  ", failed));
    return 1;
}
Say("every pair stayed reachable through the whole roll");
return 0;

void CreatePod(TopologyHost h, bool ours)
{
    var name = ours ? $"kube-flannel-ds-{h.NodeName}" : UpstreamFlanneld.PodName(h);
    var path = Path.Combine(topology.StateDir, name + ".yaml");
    File.WriteAllText(path, $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-flannel\n  labels:\n    app: {(ours ? "flannel" : "flannel-upstream")}\n    tier: node\n" +
        $"spec:\n  nodeName: {h.NodeName}\n  hostNetwork: true\n  containers:\n  - name: kube-flannel\n    image: flanneld\nstatus:\n  phase: Running\n  podIP: {h.Address}\n  hostIP: {h.Address}\n");
    kube.Kubectl("create", "-f", path);
}

async Task ToOurs(TopologyHost h)
{
    upstream!.Stop(h);
    kube.Kubectl("delete", "pod", "-n", "kube-flannel", UpstreamFlanneld.PodName(h));
    CreatePod(h, ours: true);
    topology.StartAgent(h, kube.AgentArgs(h));
    await topology.WaitReadyAsync(TimeSpan.FromSeconds(90), [h]);
}

async Task ToUpstream(TopologyHost h)
{
    topology.StopAgent(h);
    kube.Kubectl("delete", "pod", "-n", "kube-flannel", $"kube-flannel-ds-{h.NodeName}");
    CreatePod(h, ours: false);
    var before = File.Exists(upstream!.LogFile(h)) ? File.ReadAllLines(upstream.LogFile(h)).Length : 0;
    upstream.Start(h);
    await WaitAsync(() => File.ReadLines(upstream.LogFile(h)).Skip(before).Any(l => l.Contains("lease acquired", StringComparison.OrdinalIgnoreCase)),
        TimeSpan.FromSeconds(30), $"{h.NodeName}: upstream flanneld writes subnet.env", [upstream.LogFile(h)]);
}

static bool AllPairsAnswer(IReadOnlyList<Pod> pods) =>
    (from a in pods from b in pods where a != b select (a, b)).AsParallel().All(p => ClusterTopology.Ping(p.a, p.b, attempts: 2));

static async Task WaitAsync(Func<bool> probe, TimeSpan timeout, string what, IEnumerable<string> logs)
{
    var deadline = DateTime.UtcNow + timeout;
    while (!probe())
    {
        if (DateTime.UtcNow > deadline)
            throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}\n" +
                string.Join("\n", logs.Where(File.Exists).Select(l => $"--- {l} ---\n{ClusterTopology.Tail(l, 20)}")));
        await Task.Delay(250);
    }
}
