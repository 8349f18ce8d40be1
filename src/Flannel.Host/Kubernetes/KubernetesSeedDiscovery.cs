using Akka.Actor;
using Akka.Configuration;
using Akka.Discovery;
using Flannel.Actors.Kubernetes;
using k8s;

namespace Flannel.Host.Kubernetes;

/// <summary>Settings of seed discovery for the DaemonSet: where the flannel pods are and how agents find each other.</summary>
/// <param name="PodNamespace">Empty: POD_NAMESPACE, else the service account namespace, else kube-flannel.</param>
/// <param name="PodLabelSelector">Label selector of the agents' pods; {0} is the service name.</param>
/// <param name="RemotingPort">Akka remoting port every agent listens on; 0 = this system's port.</param>
public sealed record SeedDiscoveryOptions(string PodNamespace = "", string PodLabelSelector = "app=flannel", int RemotingPort = 0)
{
    public ClusterBootstrapSettings Bootstrap { get; init; } = ClusterBootstrapSettings.Default;
}

/// <summary>
/// Glue for --kube-subnet-mgr: the HOCON that selects the kubernetes-pods discovery method, and starting the
/// bootstrap with the host's KubernetesClient. The actor system must not have akka.cluster.seed-nodes configured.
/// </summary>
public static class KubernetesSeedDiscovery
{
    public const string Method = "kubernetes-pods";

    /// <summary>HOCON to merge into the actor system's config (before the system is created).</summary>
    public static Config Hocon(SeedDiscoveryOptions options) =>
        ConfigurationFactory.ParseString($$"""
            akka.discovery.method = {{Method}}
            akka.discovery.kubernetes-pods {
              pod-namespace = "{{options.PodNamespace}}"
              pod-label-selector = "{{options.PodLabelSelector}}"
              port = {{options.RemotingPort}}
            }
            """).WithFallback(KubernetesPodsServiceDiscovery.DefaultConfig);

    /// <summary>Registers the client for the discovery method and starts the bootstrap; returns the bootstrap actor.</summary>
    /// <param name="remembered">Members probed besides the pods (a rejoining incarnation, see <see cref="RejoinContacts"/>).</param>
    /// <param name="waitStatus">A restarted agent's status: the bootstrap's wait reasons go to readiness (see
    /// <see cref="KubernetesClusterBootstrap.Props"/>).</param>
    public static IActorRef Start(ActorSystem system, IKubernetes client, SeedDiscoveryOptions options, IReadOnlyList<Address>? remembered = null,
        Flannel.Actors.Node.AgentStatus? waitStatus = null)
    {
        KubernetesClientExtension.Get(system).Client = client;
        var discovery = Discovery.Get(system).LoadServiceDiscovery(Method);
        return system.StartKubernetesClusterBootstrap(discovery, options.Bootstrap, remembered, waitStatus);
    }
}
