using Akka.Actor;
using k8s;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Hands the host's KubernetesClient to components Akka instantiates by reflection (the discovery method), so that
/// they use the same credentials and connection pool. Set <see cref="Client"/> before the discovery is first used.
/// </summary>
public sealed class KubernetesClientExtension : IExtension
{
    public IKubernetes? Client { get; set; }

    public static KubernetesClientExtension Get(ActorSystem system) => system.WithExtension<KubernetesClientExtension, KubernetesClientExtensionProvider>();
}

public sealed class KubernetesClientExtensionProvider : ExtensionIdProvider<KubernetesClientExtension>
{
    public override KubernetesClientExtension CreateExtension(ExtendedActorSystem system) => new();
}
