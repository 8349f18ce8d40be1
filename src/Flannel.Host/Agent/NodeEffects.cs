using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Net.Config;
using Flannel.Net.Masq;
using Flannel.Net.SubnetEnv;

namespace Flannel.Host.Agent;

/// <summary>
/// The agent's real side effects: subnet.env at --subnet-file, and flannel's NAT/forward rules (--ip-masq,
/// --iptables-forward-rules; null <paramref name="masq"/> = neither). The first call for a lease applies the rules in
/// full (removing a previous network's); later calls only re-apply when something is missing.
/// </summary>
public sealed class NodeEffects(string subnetFile, bool ipMasq, IMasqManager? masq) : INodeEffects
{
    private readonly object _lock = new();
    private Lease? _applied;

    public void WriteSubnetEnv(NetConf conf, Lease lease, int mtu) =>
        SubnetEnvFile.Write(subnetFile, SubnetEnv.ForLease(conf.Network!.Value, lease.Subnet, mtu, ipMasq));

    public int EnsureMasq(NetConf conf, Lease lease)
    {
        if (masq is null) return 0;
        var network = conf.Network!.Value;
        // The start sequence and the periodic check may overlap when the lease moves: one at a time.
        lock (_lock)
        {
            if (_applied is null || !_applied.Subnet.Equals(lease.Subnet))
            {
                masq.Apply(network, lease.Subnet);
                _applied = lease;
                return 0;
            }
            return masq.Ensure(network, lease.Subnet).Count;
        }
    }
}
