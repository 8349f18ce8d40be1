using Flannel.Demo;
using Flannel.E2E.Kube;

namespace Flannel.E2E.Survival;

/// <summary>
/// The survival topology in Kubernetes mode: 5 hosts, udp backend (the tunnel lives in flanneld), agents with
/// --kube-subnet-mgr and no seeds (they find each other by listing the flannel pods), leases = the Nodes' podCIDRs. The
/// test API server sits on the main bridge, so the hosts that get cut off (4 and 5, not the lowest contact point host 1)
/// lose the API server too, as nodes cut off from the control plane do.
/// </summary>
public sealed class KubeSurvivalCluster() : KubeAgentCluster("udp", hosts: 5, prefix: "kr", name: "kube-survival")
{
    public IReadOnlyList<TopologyHost> Majority => Topology.Hosts.Take(3).ToList();
    public IReadOnlyList<TopologyHost> Minority => Topology.Hosts.Skip(3).ToList();
}
