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
    // One at a time: the start sequence and the periodic check may overlap when the lease moves (a semaphore, not a lock:
    // the periodic check awaits its commands).
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Lease? _applied;

    public void WriteSubnetEnv(NetConf conf, Lease lease, int mtu) =>
        SubnetEnvFile.Write(subnetFile, SubnetEnv.ForLease(conf.Network!.Value, lease.Subnet, mtu, ipMasq));

    public int EnsureMasq(NetConf conf, Lease lease)
    {
        if (masq is null) return 0;
        var network = conf.Network!.Value;
        _gate.Wait();
        try
        {
            if (_applied is null || !_applied.Subnet.Equals(lease.Subnet))
            {
                masq.Apply(network, lease.Subnet);
                _applied = lease;
                return 0;
            }
            return masq.Ensure(network, lease.Subnet).Count;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<int> EnsureMasqAsync(NetConf conf, Lease lease)
    {
        if (masq is null) return 0;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            // A new lease's first apply goes the start sequence's way (rare); the check every --iptables-resync awaits.
            if (_applied is null || !_applied.Subnet.Equals(lease.Subnet))
            {
                masq.Apply(conf.Network!.Value, lease.Subnet);
                _applied = lease;
                return 0;
            }
            return (await masq.EnsureAsync(conf.Network!.Value, lease.Subnet).ConfigureAwait(false)).Count;
        }
        finally
        {
            _gate.Release();
        }
    }
}
