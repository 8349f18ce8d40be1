using System.Globalization;

namespace Flannel.Demo;

/// <summary>
/// `flannel-demo --kube` with the image (demo.sh builds it): the seed tutorial, locally. The test API server holds 3
/// Nodes; `kubectl apply -f deploy/kube-flannel.yml` (after the cluster TLS Secret) creates everything, and a minimal
/// kubelet on each namespace host runs the DaemonSet's pod with podman; the tutorial's kubectl checks print; guestbook
/// pods made by the CNI plugin the init container installed talk across hosts (redis); `kubectl patch` switches the
/// backend to udp and back while a ping runs; `kubectl delete -f` stops the agents. Exit 0 only when every check held.
/// </summary>
public sealed class KubeImageDemoRunner(TopologyOptions options, string serverExe, string kubeletExe, string manifest, TextWriter output)
{
    private readonly DemoScript script = new(output, steps: 8, $"{options.Hosts} hosts, kube mode with the image");

    public int Run()
    {
        KubeImageTopology? kube = null;
        var ok = true;
        var summary = new List<string>();
        return script.Run(ct =>
        {
            Step($"{options.Hosts} namespace hosts, the test API server, a minimal kubelet (podman) on each host");
            kube = KubeImageTopology.Create(options with { Backend = "vxlan" }, serverExe, kubeletExe);
            Show(kube, "get", "nodes");

            Step("kubectl apply -f " + manifest + ", then the agents' cluster credential (the pods wait for it in ContainerCreating)");
            Show(kube, "apply", "-f", manifest);
            Line("$ flanneld certs node --ca-dir <cluster CA> --out flannel-tls --name kube-flannel");
            Line("$ kubectl -n kube-flannel create secret generic kube-flannel-cluster-tls --from-file=flannel-tls --dry-run=client -o yaml | kubectl apply -f -");
            Line("  " + kube.CreateClusterTlsSecret().Trim());

            Step("the DaemonSet comes up: init containers install the CNI plugin and conflist, then flanneld (NET_ADMIN, NET_RAW, hostNetwork)");
            kube.WaitPodsReady(TimeSpan.FromSeconds(150), ct);
            kube.Cluster.WaitReadyAsync(TimeSpan.FromSeconds(90), ct: ct).GetAwaiter().GetResult();
            Line($"  every pod Ready and every agent programmed its peers ({Elapsed})");
            Show(kube, "get", "pods", "--all-namespaces", "-o", "wide");

            Step("the tutorial's checks");
            Show(kube, "-n", "kube-flannel", "describe", "sa", "flannel");
            Show(kube, "describe", "cm", "kube-flannel-cfg", "--namespace=kube-flannel");
            Line("$ kubectl get nodes -o json | grep CIDR");
            foreach (var l in kube.Kubectl("get", "nodes", "-o", "json").Split('\n').Where(l => l.Contains("CIDR", StringComparison.Ordinal))) Line(l);
            Show(kube, "describe", "ds", "kube-flannel-ds", "--namespace=kube-flannel");
            foreach (var h in kube.Cluster.Hosts)
            {
                var root = KubeImageTopology.HostRoot(h);
                var plugin = File.Exists(Path.Combine(root, "opt", "cni", "bin", "flannel"));
                var conflist = File.Exists(Path.Combine(root, "etc", "cni", "net.d", "10-flannel.conflist"));
                var subnet = File.Exists(Path.Combine(root, "run", "flannel", "subnet.env"));
                Line($"  {h.NodeName}: /opt/cni/bin/flannel {(plugin ? "installed" : "MISSING")}, /etc/cni/net.d/10-flannel.conflist {(conflist ? "installed" : "MISSING")}, /run/flannel/subnet.env {(subnet ? "written" : "MISSING")}");
                ok &= plugin && conflist && subnet;
            }
            Footprint(kube);

            Step("guestbook: one pod per host through the installed CNI plugin; redis on " + kube.Cluster.Hosts[0].NodeName + ", clients on the others");
            var pods = kube.Cluster.Hosts.Select(h => kube.CreatePod(h, $"guestbook-{h.NodeName}")).ToList();
            foreach (var p in pods) Line($"  {p.Name}: {p.Address} on {p.Host.NodeName}");
            kube.Cluster.StartInNamespace(pods[0].Namespace, "redis-server", ["--port", "6379", "--bind", "0.0.0.0", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
                Path.Combine(kube.Cluster.StateDir, "redis.log"));
            var guestbook = Guestbook(pods);
            Line($"  guestbook: {guestbook}");
            ok &= guestbook.StartsWith("ok", StringComparison.Ordinal);
            var (reachable, total) = PodPings.Count(pods);
            Line($"  vxlan: {reachable}/{total} pod pairs reachable");
            ok &= reachable == total;

            var from = "vxlan";
            foreach (var to in KubeDemoRunner.Switches)
            {
                Step($"kubectl patch configmap kube-flannel-cfg: {from} -> {to}, while {pods[0].Name} pings {pods[1].Name} every 50 ms");
                using var ping = PingRecorder.Start(pods[0], pods[1]);
                Thread.Sleep(1000);
                var patch = System.Text.Json.JsonSerializer.Serialize(new { data = new Dictionary<string, string> { ["net-conf.json"] = KubeTopology.NetConf(to, options.Network.ToString()) } });
                Line("  " + kube.Kubectl("-n", "kube-flannel", "patch", "configmap", "kube-flannel-cfg", "--type", "merge", "-p", patch).Trim());
                var took = BackendWait.UntilAllOnAsync(kube.Cluster, to, TimeSpan.FromSeconds(60), ct).GetAwaiter().GetResult();
                Thread.Sleep(1500);
                var loss = ping.Stop();
                (reachable, total) = PodPings.Count(pods);
                Line($"  every agent on {to} {took.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s after the patch; ping: {loss}; {reachable}/{total} pod pairs reachable");
                ok &= reachable == total;
                summary.Add($"{from}->{to} {reachable}/{total} reachable, loss {loss.Lost}/{loss.Sent}");
                from = to;
            }

            Step("kubectl delete -f " + manifest + ": the kubelets stop the pods, the agents leave the cluster");
            Show(kube, "delete", "-f", manifest);
            var gone = WaitNoAgents(kube, TimeSpan.FromSeconds(60));
            Line($"  agent containers left: {gone}");
            ok &= gone == 0;
            kube.Dispose();
            Line($"  removed every namespace, container and process ({Elapsed})");
            script.Summary($"{string.Join("; ", summary)}{(ok ? "" : " - FAILED")}");
            return ok ? 0 : 1;
        }, () =>
        {
            kube?.Dispose();
            ClusterTopology.RemoveLeftovers(options);
        });
    }

    /// <summary>The tutorial's app in miniature: the frontend pods write and read entries in the redis pod on another host.</summary>
    private static string Guestbook(IReadOnlyList<Pod> pods)
    {
        var redis = pods[0].Address.ToString();
        for (var attempt = 0; attempt < 50 && !Netns.Exec(pods[1].Namespace, "redis-cli", ["-h", redis, "ping"], TimeSpan.FromSeconds(5)).Stdout.Contains("PONG", StringComparison.Ordinal); attempt++)
            Thread.Sleep(100);
        foreach (var p in pods.Skip(1))
        {
            var r = Netns.Exec(p.Namespace, "redis-cli", ["-h", redis, "rpush", "guestbook", $"hello from {p.Name}"], TimeSpan.FromSeconds(5));
            if (!r.Ok) return $"FAILED: {p.Name} -> redis: {r.Stderr.Trim()} {r.Stdout.Trim()}";
        }
        var list = Netns.Exec(pods[^1].Namespace, "redis-cli", ["-h", redis, "lrange", "guestbook", "0", "-1"], TimeSpan.FromSeconds(5)).Stdout.Trim().Split('\n');
        return list.Length == pods.Count - 1 ? $"ok, {list.Length} entries written across hosts: {string.Join(" | ", list)}" : $"FAILED: read back {string.Join(" | ", list)}";
    }

    /// <summary>Idle resident memory of each agent container's flanneld (its main process, from /proc).</summary>
    private void Footprint(KubeImageTopology kube)
    {
        foreach (var h in kube.Cluster.Hosts)
        {
            var ids = ProcessRunner.Run("podman", ["ps", "-q", "--filter", $"label={KubeImageTopology.KubeletLabel(h)}", "--filter", "label=io.kubernetes.container.name=kube-flannel"]).Stdout.Trim();
            if (ids.Length == 0) { Line($"  {h.NodeName}: no agent container"); continue; }
            var pid = ProcessRunner.Run("podman", ["inspect", "--format", "{{.State.Pid}}", ids.Split('\n')[0]]).Stdout.Trim();
            var rss = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))?.Split(':')[1].Trim();
            Line($"  {h.NodeName}: agent container's flanneld RSS {rss} (pid {pid})");
        }
    }

    private static int WaitNoAgents(KubeImageTopology kube, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = kube.Cluster.Hosts.Sum(h => ProcessRunner.Run("podman", ["ps", "-q", "--filter", $"label={KubeImageTopology.KubeletLabel(h)}"]).Stdout
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            if (left == 0 || DateTime.UtcNow > deadline) return left;
            Thread.Sleep(500);
        }
    }


    private void Show(KubeImageTopology kube, params string[] args)
    {
        Line("$ kubectl " + string.Join(' ', args));
        foreach (var l in kube.Kubectl(args).TrimEnd().Split('\n')) Line("  " + l);
    }

    private string Elapsed => script.Elapsed;
    private void Step(string what) => script.Step(what);
    private void Line(string text) => script.Line(text);
}
