using Akka.Actor.Setup;
using Flannel.Net.Config;

namespace Flannel.Actors.Leases;

/// <summary>
/// What the lease allocator must know from its host rather than from claims: the cluster's accepted net-conf (the one
/// the agent started with; NetConfChangePolicy refuses Network and subnet-layout changes cluster-wide, so it stays the
/// accepted range) and, in Kubernetes mode, the podCIDR authority. Pass it in the ActorSystemSetup
/// (<c>BootstrapSetup.Create().WithConfig(config).And(new LeaseAllocatorSetup(conf, authority))</c>); every node needs
/// it, since any node may host the allocator.
/// </summary>
/// <param name="NodeCidrs">Null outside Kubernetes mode.</param>
public sealed class LeaseAllocatorSetup(NetConf acceptedConf, INodeCidrAuthority? nodeCidrs = null) : Setup
{
    public NetConf AcceptedConf { get; } = acceptedConf.Network is null
        ? throw new ArgumentException("LeaseAllocatorSetup: the accepted net-conf has no IPv4 Network", nameof(acceptedConf))
        : acceptedConf;

    public INodeCidrAuthority? NodeCidrs { get; } = nodeCidrs;
}
