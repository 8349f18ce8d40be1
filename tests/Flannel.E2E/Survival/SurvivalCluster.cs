using Flannel.E2E.Agent;
using Flannel.Demo;

namespace Flannel.E2E.Survival;

/// <summary>
/// 5 hosts in network namespaces, udp backend (the tunnel lives in flanneld, so a dead or stuck agent would cut its
/// pods off), mutual TLS, one pod per host. Hosts 4 and 5 are the side that gets cut off: not host 1, the first seed.
/// Shared by the survival tests; each leaves it healed with every agent ready.
/// </summary>
public sealed class SurvivalCluster() : AgentCluster("udp", hosts: 5, name: "survival")
{
    public IReadOnlyList<TopologyHost> Majority => Topology.Hosts.Take(3).ToList();
    public IReadOnlyList<TopologyHost> Minority => Topology.Hosts.Skip(3).ToList();

    public Pod PodOn(TopologyHost h) => Pods.Single(p => p.Host == h);
}
