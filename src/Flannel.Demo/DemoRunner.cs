namespace Flannel.Demo;

/// <summary>The demo's steps and what it prints.</summary>
public sealed class DemoRunner(TopologyOptions options, TextWriter output)
{
    private readonly DemoScript script = new(output, steps: 8, $"{options.Hosts} hosts, backend {options.Backend}");

    public int Run()
    {
        ClusterTopology? topology = null;
        var cleaned = 0;
        void Cleanup()
        {
            if (Interlocked.Exchange(ref cleaned, 1) == 1) return;
            topology?.Dispose();
            ClusterTopology.RemoveLeftovers(options);
        }
        return script.Run(ct =>
        {
            Step($"building {options.Hosts} hosts on an underlay bridge ({options.Underlay}) in network namespaces");
            topology = ClusterTopology.Create(options);
            foreach (var h in topology.Hosts) Line($"  {h.NodeName}: netns {h.Namespace}, eth0 {h.Address}");

            Step($"starting flanneld on every host (backend {options.Backend}, seeds {topology.Hosts[0].Address}:{options.ClusterPort}, " +
                 $"mutual TLS with a CA made for this run in {topology.CaDir})");
            topology.StartAgents();
            topology.WaitReadyAsync(TimeSpan.FromSeconds(60), ct: ct).GetAwaiter().GetResult();
            Line($"  all {options.Hosts} agents ready ({Elapsed})");
            var status = topology.Hosts[0].Client!.StatusAsync(ct).GetAwaiter().GetResult();
            Line("  cluster members:");
            foreach (var m in status.Members)
                Line($"    {m.Address,-36} {m.Status,-8}{(m.Leader ? " leader" : "")}{(m.Reachable ? "" : " UNREACHABLE")}");
            Line("  leases:");
            Line($"    {"SUBNET",-16} {"NODE",-8} {"PUBLIC IP",-14} {"BACKEND",-8} EXPIRES");
            foreach (var l in status.Leases)
                Line($"    {l.Subnet,-16} {l.Node,-8} {l.PublicIp,-14} {l.Backend,-8} {l.Expiration:yyyy-MM-dd HH:mm}Z");

            Step("creating one pod per host through the flannel CNI plugin (CNI_COMMAND=ADD, delegate bridge + host-local)");
            var pods = topology.Hosts.AsParallel().AsOrdered().Select(h => topology.CreatePod(h, $"pod{h.Index}")).ToList();
            foreach (var p in pods) Line($"  {p.Name}: {p.Address} on {p.Host.NodeName}");

            Step("routes on each host");
            foreach (var h in topology.Hosts)
            {
                Line($"  {h.NodeName}:");
                foreach (var r in Netns.Exec(h.Namespace, "ip", ["-4", "route", "show"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    Line($"    {r}");
            }

            Step("ping matrix (every pod to every other pod)");
            var results = PodPings.Matrix(pods);
            Line("  " + "from \\ to".PadRight(14) + string.Concat(pods.Select(p => p.Address.ToString().PadRight(14))));
            foreach (var a in pods)
                Line("  " + a.Address.ToString().PadRight(14) + string.Concat(pods.Select(b =>
                    (a == b ? "-" : results[(a, b)] ? "ok" : "FAIL").PadRight(14))));
            var reachable = results.Count(r => r.Value);

            Step($"throughput {pods[1]} -> {pods[0]} (iperf3, TCP, 3 s)");
            string throughput;
            try
            {
                throughput = Throughput.Format(Throughput.Measure(topology, pods[0], pods[1]));
                Line($"  {throughput}");
            }
            catch (InvalidOperationException e)
            {
                throughput = "no throughput figure";
                Line($"  iperf3 failed: {e.Message}");
            }

            Step($"the operator's view: flanneld ctl against {topology.Hosts[0].NodeName}'s command host");
            foreach (var command in new[] { new[] { "cluster", "show" }, new[] { "lease", "list" } })
            {
                Line($"  $ flanneld ctl {string.Join(' ', command)}");
                var ctl = Netns.Exec(topology.Hosts[0].Namespace, options.Flanneld,
                    ["ctl", "--socket", topology.Hosts[0].CmdSocket, .. command], TimeSpan.FromSeconds(20));
                foreach (var l in (ctl.Ok ? ctl.Stdout : ctl.Stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries)) Line($"  {l}");
            }

            Step("cleaning up");
            Cleanup();
            Line($"  removed every namespace and process ({Elapsed})");
            script.Summary($"{reachable}/{results.Count} pod pairs reachable, {throughput}");
            return reachable == results.Count ? 0 : 1;
        }, Cleanup);
    }

    private string Elapsed => script.Elapsed;
    private void Step(string what) => script.Step(what);
    private void Line(string text) => script.Line(text);
}
