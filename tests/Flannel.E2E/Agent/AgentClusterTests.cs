using System.Net;
using Flannel.Actors.Cmd;
using Flannel.E2E.Ctl;
using Flannel.Demo;
using Flannel.Host.Ctl;
using Flannel.Host.Health;
using Flannel.Net.SubnetEnv;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Agent;

/// <summary>What must hold for every backend on a 3-host cluster.</summary>
public abstract class AgentClusterTests<TCluster>(TCluster cluster) where TCluster : AgentCluster
{
    protected TCluster Cluster { get; } = cluster;
    protected ClusterTopology Topology => Cluster.Topology;

    /// <summary>FLANNEL_MTU on a 1500 underlay.</summary>
    protected abstract int ExpectedMtu { get; }

    [Fact]
    public async Task Every_pod_pings_every_pod_on_the_other_hosts()
    {
        await Cluster.EnsureReadyAsync();
        var pairs = (from a in Cluster.Pods from b in Cluster.Pods where a.Host != b.Host select (a, b)).ToList();
        var failed = pairs.AsParallel().Where(p => !ClusterTopology.Ping(p.a, p.b)).Select(p => $"{p.a} -> {p.b}").ToList();
        Assert.Empty(failed);
        Assert.Equal(6, pairs.Count);
    }

    [Fact]
    public async Task A_healthy_start_logs_no_warning_of_a_missing_lease_allocator()
    {
        await Cluster.EnsureReadyAsync();
        // Akka.NET 1.5.73's singleton proxy warned "failed to find an associated singleton ... after 30 seconds" within
        // a second of every start (its timer's first tick has no delay). A claim the allocator does not answer is the
        // lease layer's warning instead (hocon/akka.hocon).
        foreach (var h in Topology.Hosts)
            Assert.DoesNotContain("ClusterSingletonProxy failed to find", File.ReadAllText(h.LogFile));
    }

    [Fact]
    public async Task A_tcp_transfer_of_8_MB_arrives_intact()
    {
        await Cluster.EnsureReadyAsync();
        var (sent, received, bytes) = await PodTcp.TransferAsync(Cluster.Pods[0], Cluster.Pods[2], 8 << 20, TimeSpan.FromSeconds(60));
        Assert.Equal(8 << 20, bytes);
        Assert.Equal(Convert.ToHexString(sent), Convert.ToHexString(received));
    }

    [Fact]
    public async Task Leases_are_distinct_and_subnet_env_matches_each_lease()
    {
        await Cluster.EnsureReadyAsync();
        var own = new List<LeaseView>();
        foreach (var h in Topology.Hosts)
        {
            var status = await h.Client!.StatusAsync();
            var lease = Assert.IsType<LeaseView>(status.Lease);
            Assert.Equal(h.NodeName, lease.Node);
            Assert.Equal(h.Address.ToString(), lease.PublicIp);
            Assert.Equal(Cluster.Backend, lease.Backend);
            Assert.Equal(3, status.Leases.Count);
            own.Add(lease);

            var env = SubnetEnvFile.Read(h.SubnetFile);
            Assert.Equal(Topology.Options.Network, env.Network);
            Assert.Equal(IPNetwork.Parse(lease.Subnet), env.Lease);
            Assert.Equal(IPNetwork.Parse(lease.Subnet).BaseAddress.GetAddressBytes()[..3], env.SubnetAddress.GetAddressBytes()[..3]);
            Assert.Equal(1, env.SubnetAddress.GetAddressBytes()[3]);
            Assert.Equal(ExpectedMtu, env.Mtu);
            Assert.False(env.IpMasq);
        }
        Assert.Equal(3, own.Select(l => l.Subnet).Distinct().Count());
        foreach (var pod in Cluster.Pods)
            Assert.True(IPNetwork.Parse(own[pod.Host.Index - 1].Subnet).Contains(pod.Address), $"{pod} outside its host's lease");
    }

    [Fact]
    public async Task A_route_deleted_by_hand_is_restored_by_the_reconcile_loop()
    {
        await Cluster.EnsureReadyAsync();
        var host = Topology.Hosts[0];
        var before = await host.Client!.StatusAsync();
        var route = RouteToDelete(before);
        var show = Netns.Exec(host.Namespace, "ip", ["-4", "route", "show", route]).Stdout.Trim();
        Assert.False(string.IsNullOrEmpty(show), $"route {route} is not installed on {host.NodeName}");

        Netns.Sh(host.Namespace, $"ip route del {route}");
        var now = "";
        await Poll.UntilAsync(() => (now = Netns.Exec(host.Namespace, "ip", ["-4", "route", "show", route]).Stdout.Trim()).Length > 0,
            TimeSpan.FromSeconds(15), $"route {route} restored on {host.NodeName}", 100);
        Assert.Equal(show, now);
        // The route is back the moment the pass wrote it; the pass's report reaches the status a message later.
        await Poll.UntilAsync(async () => (await host.Client.StatusAsync()).Reconcile.DriftRepairs > before.Reconcile.DriftRepairs,
            TimeSpan.FromSeconds(5), $"drift repairs above {before.Reconcile.DriftRepairs}");
        Assert.True(ClusterTopology.Ping(Cluster.Pods[0], Cluster.Pods[1]));
    }

    [Fact]
    public async Task An_agent_that_accepted_its_peers_connections_runs_only_the_two_remoting_event_loops()
    {
        await Cluster.EnsureReadyAsync();
        // Host 1 is the first seed: the others connected to it. DotNetty's threads are "SingleThreadEventExecutor worker"
        // (15 characters in comm): one event loop for accepted connections, one for outgoing ones (hocon/akka.hocon).
        // A third, its buffer-cache watcher, started with the pooled allocator on accepted connections (Hosting/DotNettyBuffers).
        foreach (var h in Topology.Hosts)
        {
            var pid = h.Agent!.Id;
            var loops = Directory.GetDirectories($"/proc/{pid}/task")
                .Select(t => { try { return File.ReadAllText(Path.Combine(t, "comm")).Trim(); } catch (IOException) { return ""; } })
                .Count(n => n == "SingleThreadEve");
            Assert.True(loops == 2, $"{h.NodeName} (pid {pid}) runs {loops} DotNetty threads, expected 2");
        }
    }

    /// <summary>The route whose loss cuts host 1 off from a peer: the per-peer route, or udp's one Network route.</summary>
    protected virtual string RouteToDelete(StatusView status) =>
        status.Leases.First(l => l.Node != status.Node).Subnet;
}

[Collection(AgentE2ECollection.Name)]
public sealed class UdpClusterTests(UdpCluster cluster) : AgentClusterTests<UdpCluster>(cluster), IClassFixture<UdpCluster>
{
    protected override int ExpectedMtu => 1472;

    protected override string RouteToDelete(StatusView status) => Topology.Options.Network.ToString();

    [Fact]
    public async Task Random_datagrams_to_the_tunnel_port_are_dropped_and_counted()
    {
        await Cluster.EnsureReadyAsync();
        var target = Topology.Hosts[0];
        var before = await target.Client!.StatusAsync();
        long Dropped(string direction) => CtlAgent.Json<PeersView>(target, "peers").Drops
            .Where(d => d.Direction == direction && d.Reason == "not_ipv4").Sum(d => d.Count);
        var (rxBefore, txBefore) = (Dropped("rx"), Dropped("tx"));
        var sent = TunnelNoise.Send(Topology.Hosts[1].Namespace, new IPEndPoint(target.Address, 8285), count: 200);
        long dropped = 0;
        await Poll.UntilAsync(async () =>
        {
            var now = await target.Client.StatusAsync();
            dropped = Total(now.TunnelDrops) - Total(before.TunnelDrops);
            return dropped >= sent;
        }, TimeSpan.FromSeconds(10), () => $"{sent} garbage datagrams sent, {dropped} drops counted", 100);
        Assert.Equal(200, sent);
        Assert.True(dropped >= sent, $"{sent} garbage datagrams sent, {dropped} drops counted");
        // They were dropped on the receive side, and ctl peers says so (it showed them as tx/not_ipv4 before). The send side
        // drops a few not-IPv4 packets of its own (the kernel's IPv6 chatter on the TUN device), never the noise.
        Assert.True(Dropped("rx") - rxBefore >= sent, $"rx/not_ipv4 {rxBefore} -> {Dropped("rx")} after {sent} datagrams");
        Assert.True(Dropped("tx") - txBefore < sent / 2, $"tx/not_ipv4 {txBefore} -> {Dropped("tx")} after {sent} datagrams");
        // The garbage did not disturb the tunnel.
        Assert.True(ClusterTopology.Ping(Cluster.Pods[1], Cluster.Pods[0]));
    }

    private static long Total(IReadOnlyDictionary<string, long>? drops) => drops?.Values.Sum() ?? 0;

    [Fact]
    public async Task An_agent_killed_with_sigkill_and_restarted_keeps_its_subnet_and_connectivity_comes_back()
    {
        await Cluster.EnsureReadyAsync();
        var host = Topology.Hosts[2];
        var before = (await host.Client!.StatusAsync()).Lease!.Subnet;

        try
        {
            Topology.KillAgent(host);
            Assert.False(await host.Client.AliveAsync());
        }
        finally
        {
            Topology.StartAgent(host);
        }
        await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90));

        var after = (await host.Client.StatusAsync()).Lease!.Subnet;
        Assert.Equal(before, after);
        Assert.Equal(before, SubnetEnvFile.Read(host.SubnetFile).Lease.ToString());
        Assert.True(ClusterTopology.Ping(Cluster.Pods[2], Cluster.Pods[0], attempts: 20), "pod3 -> pod1 after the restart");
        Assert.True(ClusterTopology.Ping(Cluster.Pods[1], Cluster.Pods[2], attempts: 20), "pod2 -> pod3 after the restart");
    }
}


[Collection(AgentE2ECollection.Name)]
public sealed class VxlanClusterTests(VxlanCluster cluster) : AgentClusterTests<VxlanCluster>(cluster), IClassFixture<VxlanCluster>
{
    protected override int ExpectedMtu => 1450;

    [Fact]
    public async Task Guestbook_a_value_written_to_the_redis_master_is_read_back_from_its_replica_on_another_host()
    {
        await Cluster.EnsureReadyAsync();
        var (master, replica, client) = (Cluster.Pods[0], Cluster.Pods[1], Cluster.Pods[2]);
        using var redis = new Guestbook(Topology, master, replica);
        redis.WaitForMaster(client, TimeSpan.FromSeconds(20));
        redis.Set(client, "guestbook:entry", "hello from host3");
        Assert.Equal("hello from host3", redis.WaitForReplica(client, "guestbook:entry", TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_host_that_leaves_keeps_its_lease_until_expiry_and_gets_it_back()
    {
        await Cluster.EnsureReadyAsync();
        var (observer, leaving) = (Topology.Hosts[0], Topology.Hosts[2]);
        var lease = (await leaving.Client!.StatusAsync()).Lease!;

        try
        {
            Assert.Equal(0, Topology.StopAgent(leaving));
            var seen = await Poll.ForAsync(async () =>
            {
                var s = await observer.Client!.StatusAsync();
                return s.Members.Any(m => m.Address.Contains(leaving.Address.ToString(), StringComparison.Ordinal)) ? null : s;
            }, TimeSpan.FromSeconds(30), $"{leaving.NodeName} gone from {observer.NodeName}'s members", 200);
            Assert.DoesNotContain(seen.Members, m => m.Address.Contains(leaving.Address.ToString(), StringComparison.Ordinal));
            var kept = Assert.Single(seen.Leases, l => l.Node == leaving.NodeName);
            Assert.Equal(lease.Subnet, kept.Subnet);
            Assert.True(kept.Expiration > DateTimeOffset.UtcNow.AddHours(23), $"lease expires {kept.Expiration:o}");
        }
        finally
        {
            // Give the cluster back to the other tests whatever happened above.
            if (leaving.Agent is not { HasExited: false }) Topology.StartAgent(leaving);
        }
        await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(lease.Subnet, (await leaving.Client.StatusAsync()).Lease!.Subnet);
        Assert.True(ClusterTopology.Ping(Cluster.Pods[0], Cluster.Pods[2], attempts: 20));
    }
}

[Collection(AgentE2ECollection.Name)]
public sealed class HostGwClusterTests(HostGwCluster cluster) : AgentClusterTests<HostGwCluster>(cluster), IClassFixture<HostGwCluster>
{
    protected override int ExpectedMtu => 1500;

    [Fact]
    public async Task The_first_seed_killed_and_restarted_rejoins_the_running_cluster_instead_of_forming_a_second_one()
    {
        await Cluster.EnsureReadyAsync();
        var seed = Topology.Hosts[0];
        var before = (await seed.Client!.StatusAsync()).Lease!.Subnet;

        try
        {
            Topology.KillAgent(seed);
            Assert.False(await seed.Client.AliveAsync());
        }
        finally
        {
            Topology.StartAgent(seed);
        }
        await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90));

        // One cluster: every agent sees all three hosts as Up members (a second, one-node cluster around host 1 would
        // show one member there and two here), and the restarted seed kept its subnet.
        var views = new List<StatusView>();
        await Poll.UntilAsync(async () =>
        {
            views = new List<StatusView>();
            try
            {
                foreach (var h in Topology.Hosts) views.Add(await h.Client!.StatusAsync());
            }
            catch (Exception e) when (e is CtlUnavailableException or InvalidOperationException)
            {
                // An agent between incarnations answers "rejoining" (a full parallel run once saw host 2 downed and
                // rejoining right after the restart): the claim is one cluster in the end, so ask again.
                return false;
            }
            return views.All(v => v.Members.Count(m => m.Status == "Up") == Topology.Hosts.Count);
        }, TimeSpan.FromSeconds(30), () => string.Join("; ", views.Zip(Topology.Hosts).Select(p =>
            $"{p.Second.NodeName} sees {string.Join(", ", p.First.Members.Select(m => m.Address + " " + m.Status))}")), 500);
        foreach (var (v, h) in views.Zip(Topology.Hosts))
            Assert.True(v.Members.Count(m => m.Status == "Up") == Topology.Hosts.Count,
                $"{h.NodeName} sees {string.Join(", ", v.Members.Select(m => m.Address + " " + m.Status))}");
        Assert.Equal(before, views[0].Lease!.Subnet);
        var subnets = views[1].Leases.Where(l => l.Expiration > DateTimeOffset.UtcNow).Select(l => l.Subnet).ToList();
        Assert.Equal(subnets.Count, subnets.Distinct().Count());
        Assert.True(ClusterTopology.Ping(Cluster.Pods[1], Cluster.Pods[0], attempts: 20), "pod2 -> pod1 after the restart");
    }
}
