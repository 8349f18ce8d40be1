using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.DistributedData;
using Flannel.Actors.Serialization;

namespace Flannel.Actors.Leases;

/// <summary>
/// Per ActorSystem: starts the allocator's ClusterSingletonManager (at /user/&lt;allocator-name&gt;, identical on every
/// node) and a proxy to it. Created on first use by SubnetLeaseActor; every flanneld node creates one, so every node
/// can host the allocator.
/// </summary>
public sealed class LeaseAllocatorExtension : IExtension
{
    public LeaseAllocatorSettings Settings { get; }
    public LeaseAllocatorSetup Setup { get; }
    public IActorRef Replicator { get; }
    public LWWDictionaryKey<string, Lease> Key { get; }

    /// <summary>Where nodes send <c>ClaimRequest</c>/<c>ReleaseRequest</c>; buffers while the singleton moves.</summary>
    public IActorRef Proxy { get; }

    public LeaseAllocatorExtension(ExtendedActorSystem system)
    {
        if (system.Serialization.FindSerializerForType(typeof(Lease)) is not LeaseSerializer)
            throw new InvalidOperationException(
                "Lease is not bound to LeaseSerializer: create the ActorSystem with LeaseConfig.Default in its config");

        var setup = system.Settings.Setup.Get<LeaseAllocatorSetup>();
        if (!setup.HasValue)
            throw new InvalidOperationException(
                "no LeaseAllocatorSetup in the ActorSystemSetup: the lease allocator must know the cluster's accepted net-conf " +
                "(and in Kubernetes mode the node podCIDR authority) from its host, never from claims; create the ActorSystem " +
                "with BootstrapSetup.Create().WithConfig(config).And(new LeaseAllocatorSetup(conf, nodeCidrs))");
        Setup = setup.Value;
        Settings = LeaseAllocatorSettings.Create(system);
        Replicator = DistributedData.Get(system).Replicator;
        Key = new LWWDictionaryKey<string, Lease>(Settings.ReplicatorKey);

        var managerSettings = ClusterSingletonManagerSettings.Create(system).WithSingletonName("allocator");
        var proxySettings = ClusterSingletonProxySettings.Create(system).WithSingletonName("allocator");
        if (Settings.Role is { } role)
        {
            managerSettings = managerSettings.WithRole(role);
            proxySettings = proxySettings.WithRole(role);
        }
        system.ActorOf(ClusterSingletonManager.Props(
                LeaseAllocatorActor.Props(Settings, Setup, Replicator, Key), PoisonPill.Instance, managerSettings),
            Settings.AllocatorName);
        Proxy = system.ActorOf(ClusterSingletonProxy.Props("/user/" + Settings.AllocatorName, proxySettings),
            Settings.AllocatorName + "-proxy");
    }

    public static LeaseAllocatorExtension Get(ActorSystem system) =>
        system.WithExtension<LeaseAllocatorExtension, LeaseAllocatorExtensionProvider>();
}

public sealed class LeaseAllocatorExtensionProvider : ExtensionIdProvider<LeaseAllocatorExtension>
{
    public override LeaseAllocatorExtension CreateExtension(ExtendedActorSystem system) => new(system);
}
