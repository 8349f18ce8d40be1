using Flannel.Testing;
using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Flannel.Actors.Leases;
using Akka.Discovery;
using Flannel.Actors.Kubernetes;
using Flannel.Kube.TestServer;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>Three real actor systems on loopback find each other through the pods discovery and form exactly one cluster.</summary>
public sealed class ClusterBootstrapTests : IAsyncLifetime
{
    private KubeTestServer _server = null!;
    private readonly List<ActorSystem> _systems = new();

    public async Task InitializeAsync()
    {
        _server = await KubeTestServer.StartAsync();
        _server.Put(Seed.Namespace(Seed.FlannelNamespace));
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_systems.Select(s => s.Terminate()));
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Discovery_lists_running_flannel_pods_by_label()
    {
        _server.Put(
            Seed.FlannelPod("a", "node-a", "127.0.0.1"),
            Seed.FlannelPod("b", "node-b", "127.0.0.2"),
            Seed.FlannelPod("done", "node-c", "127.0.0.3", phase: "Succeeded"),
            Seed.FlannelPod("no-ip", "node-d", null, phase: "Pending"));
        var system = StartSystem(0);
        var discovery = Discovery.Get(system).LoadServiceDiscovery("kubernetes-pods");
        var resolved = await discovery.Lookup(new Lookup("flannel"), TimeSpan.FromSeconds(5));
        Assert.Equal(["127.0.0.1", "127.0.0.2"], resolved.Addresses.Select(t => t.Host).Order());
        Assert.All(resolved.Addresses, t => Assert.Equal(Cluster.Get(system).SelfAddress.Port, t.Port));
        Assert.Equal(IPAddress.Parse("127.0.0.1"), resolved.Addresses.Single(t => t.Host == "127.0.0.1").Address);
    }

    [Fact]
    public async Task Three_agents_started_together_form_one_cluster()
    {
        // Like the DaemonSet: one address per node (127.0.0.x is all loopback on Linux), the same remoting port everywhere.
        var port = FreePort();
        var ips = new[] { "127.0.0.3", "127.0.0.2", "127.0.0.4" };
        _server.Put(ips.Select((ip, i) => (k8s.IKubernetesObject)Seed.FlannelPod($"flannel-{i}", $"node-{i}", ip)).ToArray());
        var settings = new ClusterBootstrapSettings("flannel", TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2));
        foreach (var ip in ips)
        {
            var system = StartSystem(port, ip);
            system.StartKubernetesClusterBootstrap(Discovery.Get(system).LoadServiceDiscovery("kubernetes-pods"), settings);
        }

        await Poll.UntilAsync(() => _systems.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 3),
            TimeSpan.FromSeconds(40), "every agent sees three Up members", 25);
        Assert.Single(_systems.Select(s => Cluster.Get(s).State.Leader).Distinct());
        // The lowest address formed the cluster, so it is the oldest member.
        var oldest = Cluster.Get(_systems[0]).State.Members.OrderBy(m => m, Member.AgeOrdering).First();
        Assert.Equal("127.0.0.2", oldest.Address.Host);
    }

    [Fact]
    public async Task A_late_agent_with_the_lowest_address_joins_instead_of_forming()
    {
        var port = FreePort();
        var settings = new ClusterBootstrapSettings("flannel", TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2));
        _server.Put(Seed.FlannelPod("flannel-b", "node-b", "127.0.0.6"), Seed.FlannelPod("flannel-c", "node-c", "127.0.0.7"));
        foreach (var ip in new[] { "127.0.0.6", "127.0.0.7" })
        {
            var system = StartSystem(port, ip);
            system.StartKubernetesClusterBootstrap(Discovery.Get(system).LoadServiceDiscovery("kubernetes-pods"), settings);
        }
        await Poll.UntilAsync(() => _systems.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 2),
            TimeSpan.FromSeconds(40), "the first two agents formed a cluster", 25);

        _server.Put(Seed.FlannelPod("flannel-a", "node-a", "127.0.0.5"));
        var late = StartSystem(port, "127.0.0.5");
        late.StartKubernetesClusterBootstrap(Discovery.Get(late).LoadServiceDiscovery("kubernetes-pods"), settings);
        await Poll.UntilAsync(() => _systems.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 3),
            TimeSpan.FromSeconds(40), "the late agent joined the existing cluster", 25);
        Assert.Single(_systems.Select(s => Cluster.Get(s).State.Leader).Distinct());
    }

    [Fact]
    public async Task A_rejoining_agent_joins_through_the_members_it_remembers_when_the_api_server_is_unreachable()
    {
        var port = FreePort();
        var settings = new ClusterBootstrapSettings("flannel", TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2));
        _server.Put(Seed.FlannelPod("flannel-a", "node-a", "127.0.0.8"), Seed.FlannelPod("flannel-b", "node-b", "127.0.0.9"));
        foreach (var ip in new[] { "127.0.0.8", "127.0.0.9" })
        {
            var system = StartSystem(port, ip);
            system.StartKubernetesClusterBootstrap(Discovery.Get(system).LoadServiceDiscovery("kubernetes-pods"), settings);
        }
        await Poll.UntilAsync(() => _systems.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 2),
            TimeSpan.FromSeconds(40), "the first two agents formed a cluster", 25);

        // Its lookups fail (nothing listens on the API address); the member named by its last lease table answers.
        var rejoining = StartSystem(port, "127.0.0.10", apiUrl: $"http://127.0.0.1:{FreePort()}");
        var remembered = Cluster.Get(_systems[1]).SelfAddress;
        rejoining.StartKubernetesClusterBootstrap(Discovery.Get(rejoining).LoadServiceDiscovery("kubernetes-pods"), settings, [remembered]);
        await Poll.UntilAsync(() => _systems.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 3),
            TimeSpan.FromSeconds(40), "the rejoining agent joined the running cluster without the API server", 25);
        Assert.Single(_systems.Select(s => Cluster.Get(s).State.Leader).Distinct());
    }

    /// <summary>
    /// A restarted agent (given its status) says on readiness why its bootstrap waits, here for the lowest pod, which is
    /// not running; once the lowest pod forms the cluster and the agent joins, the reason becomes "joining the cluster"
    /// (the quorum watcher clears it when the node is Up in a majority).
    /// </summary>
    [Fact]
    public async Task A_restarted_agents_bootstrap_puts_its_wait_reason_on_readiness_until_it_joins()
    {
        var port = FreePort();
        var settings = new ClusterBootstrapSettings("flannel", TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2));
        _server.Put(Seed.FlannelPod("flannel-a", "node-a", "127.0.0.11"), Seed.FlannelPod("flannel-b", "node-b", "127.0.0.12"));
        var status = new Flannel.Actors.Node.AgentStatus("node-b");
        var restarted = StartSystem(port, "127.0.0.12");
        restarted.StartKubernetesClusterBootstrap(Discovery.Get(restarted).LoadServiceDiscovery("kubernetes-pods"), settings, waitStatus: status);
        await Poll.UntilAsync(() => status.Current.Partitioned?.StartsWith("waiting for the cluster: waiting for the lowest contact point", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(20), "readiness says the restarted agent waits for the lowest pod", 25);
        Assert.Contains("partitioned: waiting for the cluster", string.Join("; ", status.Current.NotReadyReasons), StringComparison.Ordinal);

        var lowest = StartSystem(port, "127.0.0.11");
        lowest.StartKubernetesClusterBootstrap(Discovery.Get(lowest).LoadServiceDiscovery("kubernetes-pods"), settings);
        await Poll.UntilAsync(() => _systems.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 2),
            TimeSpan.FromSeconds(40), "the lowest pod formed the cluster and the restarted agent joined", 25);
        Assert.Equal("joining the cluster", status.Current.Partitioned);
    }

    private ActorSystem StartSystem(int port, string host = "127.0.0.1", string? apiUrl = null)
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "{{host}}", port = {{port}} }
            akka.loglevel = WARNING
            akka.discovery.kubernetes-pods {
              pod-namespace = kube-flannel
              pod-label-selector = "app={0}"
              api-url = "{{apiUrl ?? _server.BaseUri.ToString()}}"
            }
            """).WithFallback(KubernetesPodsServiceDiscovery.DefaultConfig)
            // The agents' wire lock: the bootstrap probe must work with its own serializer, without the JSON fallback.
            .WithFallback(LeaseConfig.Default);
        var system = ActorSystem.Create("flannel", config);
        _systems.Add(system);
        return system;
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
