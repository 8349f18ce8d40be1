using Akka.Actor;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Node;
using Flannel.Host.Options;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Kubernetes;

/// <summary>
/// The --kube-subnet-mgr parts of a running agent: the Node watcher feeding the lease allocator's podCIDR authority
/// (<see cref="StartNodeWatcher"/>, before the lease actor) and deletions into the cluster
/// (<see cref="NodeLeaseReleaserActor"/>), seed discovery (when no --cluster-seeds), the kube-flannel-cfg watcher
/// offering net-conf.json changes to the cluster config, refusals as Kubernetes Events, and the node annotations/condition.
/// </summary>
public sealed class KubeAgentServices : IAsyncDisposable
{
    private readonly KubeNodeStatusLoop _statusLoop;

    private KubeAgentServices(KubeNodeStatusLoop statusLoop) => _statusLoop = statusLoop;

    /// <summary>
    /// Starts the Node watcher and keeps <paramref name="nodeCidrs"/> (the lease allocator's podCIDR authority, in the
    /// ActorSystemSetup) current from it. Call before the lease actor starts, so claims find the node list soon.
    /// </summary>
    public static IActorRef StartNodeWatcher(ActorSystem system, KubeNodeContext kube, FlanneldOptions options,
        KubeNodeCidrAuthority nodeCidrs)
    {
        var watcher = system.ActorOf(NodeWatcherActor.Props(kube.Client, options.KubeAnnotationPrefix), "kube-nodes");
        system.ActorOf(NodeCidrFeederActor.Props(watcher, nodeCidrs), "kube-node-cidrs");
        return watcher;
    }

    /// <summary>Nodes outside our cluster with flannel's annotations (upstream flannel during a migration), for the route
    /// programmer (<see cref="Flannel.Actors.Routes.RouteProgrammerSettings.ForeignNodes"/>).</summary>
    /// <param name="memory">The process's Node list across incarnations (see <see cref="ForeignNodeMemory"/>).</param>
    public static IActorRef StartForeignNodes(ActorSystem system, IActorRef watcher, ForeignNodeMemory? memory = null) =>
        system.ActorOf(ForeignNodesActor.Props(watcher, memory), "kube-foreign-nodes");

    /// <param name="watcher">The Node watcher from <see cref="StartNodeWatcher"/>.</param>
    /// <param name="clusterNetConf">The ClusterNetConfActor (receives the ConfigMap's net-conf.json).</param>
    /// <param name="onOwnNodeDeleted">Called when this agent's Node is deleted.</param>
    /// <param name="rememberedMembers">A rejoining incarnation's members to ask besides the pods (<see cref="RejoinContacts"/>).</param>
    /// <param name="restarted">This node has run in the cluster before (a restarted agent, see
    /// <see cref="Flannel.Actors.Node.NodeAgentSettings.ApiSubnet"/>): readiness says why the bootstrap waits.</param>
    public static KubeAgentServices Start(ActorSystem system, KubeNodeContext kube, FlanneldOptions options, bool discoverSeeds,
        IActorRef watcher, IActorRef leases, IActorRef clusterNetConf, AgentStatus status, Action<string> onOwnNodeDeleted,
        ILoggerFactory loggers, IReadOnlyList<Address>? rememberedMembers = null, bool restarted = false)
    {
        var log = loggers.CreateLogger("Flannel.Kube");
        var ns = options.PodNamespace ?? ConfigMapWatcherActor.DefaultNamespace;
        if (discoverSeeds)
        {
            KubernetesSeedDiscovery.Start(system, kube.Client, SeedOptions(options), rememberedMembers, restarted ? status : null);
            log.LogInformation("seed discovery: flannel pods labelled {Selector} in namespace {Namespace}", SeedOptions(options).PodLabelSelector, ns);
            if (rememberedMembers is { Count: > 0 })
                log.LogInformation("also asking the members of the last known lease table: {Members}", string.Join(",", rememberedMembers));
        }
        system.ActorOf(NodeLeaseReleaserActor.Props(leases, watcher, kube.NodeName, onOwnNodeDeleted), "kube-node-leases");
        system.ActorOf(ConfigMapWatcherActor.Props(kube.Client, ns, subscriber: clusterNetConf), "kube-config");
        var recorder = new KubeEventRecorder(kube.Client, log, host: kube.NodeName);
        system.ActorOf(KubeRefusalReporter.Props(recorder, ns, ConfigMapWatcherActor.DefaultName, kube.NodeName, log), "kube-events");
        var publisher = new NodeAnnotationPublisher(kube.Client, log, options.KubeAnnotationPrefix);
        return new KubeAgentServices(new KubeNodeStatusLoop(publisher, kube.NodeName, status, options.SetNodeNetworkUnavailable, log));
    }

    /// <summary>The flannel DaemonSet's pods: namespace POD_NAMESPACE (else kube-flannel), label app=flannel, our remoting port.</summary>
    public static SeedDiscoveryOptions SeedOptions(FlanneldOptions options) =>
        new(options.PodNamespace ?? ConfigMapWatcherActor.DefaultNamespace, "app=flannel", options.ClusterPort);

    public ValueTask DisposeAsync() => _statusLoop.DisposeAsync();
}
