using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Net.Config;
using Flannel.Net.SubnetEnv;

namespace Flannel.Host.Agent;

/// <summary>The agent's real side effects: subnet.env at --subnet-file and (with --ip-masq) the masquerade rules.</summary>
public sealed class NodeEffects(string subnetFile, bool ipMasq, Func<NetConf, Lease, int>? ensureMasq) : INodeEffects
{
    public void WriteSubnetEnv(NetConf conf, Lease lease, int mtu) =>
        SubnetEnvFile.Write(subnetFile, SubnetEnv.ForLease(conf.Network!.Value, lease.Subnet, mtu, ipMasq));

    public int EnsureMasq(NetConf conf, Lease lease) => ipMasq && ensureMasq is not null ? ensureMasq(conf, lease) : 0;
}
