using System.Globalization;

namespace Flannel.Demo;

/// <summary>
/// `flannel-demo --kube`: the seed's flow on local hosts. A test API server holds 3 Nodes with podCIDRs and the
/// kube-flannel-cfg ConfigMap (vxlan); the agents run with --kube-subnet-mgr and find each other by listing the flannel
/// pods; pods talk; then `kubectl patch configmap` switches the backend to udp and back while a ping runs, and the loss
/// is printed. Exit 0 only when every pod pair is reachable after each switch and no old backend state remains.
/// </summary>
public sealed class KubeDemoRunner(TopologyOptions options, string serverExe, TextWriter output)
{
    private readonly DemoScript script = new(output, steps: 6, $"{options.Hosts} hosts, kube mode");

    /// <summary>The tutorial's backend switches, in order, starting from vxlan.</summary>
    public static readonly IReadOnlyList<string> Switches = ["udp", "vxlan"];

    public int Run()
    {
        KubeTopology? kube = null;
        var ok = true;
        var summary = new List<string>();
        return script.Run(ct =>
        {
            Step($"building {options.Hosts} hosts on an underlay bridge and the test API server inside the underlay namespace");
            kube = KubeTopology.Create(options with { Backend = "vxlan", NetConfJson = KubeTopology.NetConf("vxlan", options.Network.ToString()) }, serverExe);
            foreach (var line in kube.Kubectl("get", "nodes", "-o", "custom-columns=NAME:.metadata.name,PODCIDR:.spec.podCIDR").Split('\n', StringSplitOptions.RemoveEmptyEntries))
                Line("  " + line);

            Step("starting flanneld --kube-subnet-mgr on every host (no seeds: the agents list the flannel pods to find each other; " +
                 "mutual TLS as the Secret kube-flannel-cluster-tls would provide it)");
            kube.StartAgents();
            kube.Cluster.WaitReadyAsync(TimeSpan.FromSeconds(90), ct: ct).GetAwaiter().GetResult();
            var status = kube.Cluster.Hosts[0].Client!.StatusAsync(ct).GetAwaiter().GetResult();
            Line($"  all agents ready ({Elapsed}); one cluster of {status.Members.Count} members; leases = podCIDRs:");
            foreach (var l in status.Leases) Line($"    {l.Subnet,-16} {l.Node,-8} {l.PublicIp,-14} {l.Backend}");
            WaitForNodeStatus(kube, ct);
            Line("  kubectl get nodes -o json:");
            foreach (var n in kube.GetNodes())
                Line($"    {n.Name,-6} podCIDR {n.PodCidr,-14} backend-type {n.Flannel("backend-type"),-6} public-ip {n.Flannel("public-ip"),-11} " +
                     $"kube-subnet-manager {n.Flannel("kube-subnet-manager")}  NetworkUnavailable={n.NetworkUnavailable} ({n.NetworkUnavailableReason})");

            Step("creating one pod per host through the flannel CNI plugin");
            var pods = kube.Cluster.Hosts.AsParallel().AsOrdered().Select(h => kube.Cluster.CreatePod(h, $"pod{h.Index}")).ToList();
            foreach (var p in pods) Line($"  {p.Name}: {p.Address} on {p.Host.NodeName}");
            var (reachable, total) = PodPings.Count(pods);
            Line($"  vxlan: {reachable}/{total} pod pairs reachable");
            ok &= reachable == total;

            var from = "vxlan";
            foreach (var to in Switches)
            {
                Step($"kubectl patch configmap kube-flannel-cfg: {from} -> {to}, while {pods[0].Name} pings {pods[1].Name} every 50 ms");
                using var ping = PingRecorder.Start(pods[0], pods[1]);
                Thread.Sleep(1000);
                kube.PatchNetConf(KubeTopology.NetConf(to, options.Network.ToString()));
                var took = kube.WaitBackendAsync(to, TimeSpan.FromSeconds(60), ct).GetAwaiter().GetResult();
                Thread.Sleep(1500);
                var loss = ping.Stop();
                Line($"  every node on {to} {took.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s after the patch; ping: {loss}");
                (reachable, total) = PodPings.Count(pods);
                var leftovers = kube.Cluster.Hosts.SelectMany(h => BackendLeftovers.Find(h, to, options.Network).Concat(BackendLeftovers.Missing(h, to))).ToList();
                foreach (var l in leftovers) Line($"  LEFTOVER {l}");
                Line($"  {to}: {reachable}/{total} pod pairs reachable, {(leftovers.Count == 0 ? "no old backend state" : $"{leftovers.Count} leftovers")}");
                ok &= reachable == total && leftovers.Count == 0;
                summary.Add($"{from}->{to} {reachable}/{total} reachable, loss {loss.Lost}/{loss.Sent} (gap {loss.LongestGapMs:0} ms)");
                from = to;
            }

            Step("cleaning up");
            kube.Dispose();
            Line($"  removed every namespace and process ({Elapsed})");
            script.Summary($"{string.Join("; ", summary)}{(ok ? "" : " - FAILED")}");
            return ok ? 0 : 1;
        }, () =>
        {
            kube?.Dispose();
            ClusterTopology.RemoveLeftovers(options);
        });
    }

    /// <summary>Annotations and the NetworkUnavailable condition are written once the agents are ready: give them a moment.</summary>
    private static void WaitForNodeStatus(KubeTopology kube, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
        {
            if (kube.GetNodes().Count(n => n.NetworkUnavailable == "False" && n.NetworkUnavailableReason == "FlannelIsUp") == kube.Cluster.Hosts.Count)
                return;
            Thread.Sleep(300);
        }
    }

    private string Elapsed => script.Elapsed;
    private void Step(string what) => script.Step(what);
    private void Line(string text) => script.Line(text);
}
