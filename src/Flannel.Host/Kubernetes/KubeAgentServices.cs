using Akka.Actor;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Node;
using Flannel.Host.Options;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Kubernetes;

/// <summary>
/// The --kube-subnet-mgr parts of a running agent: seed discovery (when no --cluster-seeds), the Node watcher feeding
/// deletions into the cluster (<see cref="NodeLeaseReleaserActor"/>), the kube-flannel-cfg watcher offering net-conf.json
/// changes to the cluster config, refusals as Kubernetes Events, and the node annotations/condition.
/// </summary>
public sealed class KubeAgentServices : IAsyncDisposable
{
    private readonly KubeNodeStatusLoop _statusLoop;

    private KubeAgentServices(KubeNodeStatusLoop statusLoop) => _statusLoop = statusLoop;

    /// <param name="clusterNetConf">The ClusterNetConfActor (receives the ConfigMap's net-conf.json).</param>
    /// <param name="onOwnNodeDeleted">Called when this agent's Node is deleted.</param>
    public static KubeAgentServices Start(ActorSystem system, KubeNodeContext kube, FlanneldOptions options, bool discoverSeeds,
        IActorRef leases, IActorRef clusterNetConf, AgentStatus status, Action<string> onOwnNodeDeleted, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("Flannel.Kube");
        var ns = options.PodNamespace ?? ConfigMapWatcherActor.DefaultNamespace;
        if (discoverSeeds)
        {
            KubernetesSeedDiscovery.Start(system, kube.Client, SeedOptions(options));
            log.LogInformation("seed discovery: flannel pods labelled {Selector} in namespace {Namespace}", SeedOptions(options).PodLabelSelector, ns);
        }
        var watcher = system.ActorOf(NodeWatcherActor.Props(kube.Client, options.KubeAnnotationPrefix), "kube-nodes");
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
