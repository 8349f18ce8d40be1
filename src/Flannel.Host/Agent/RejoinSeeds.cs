using Flannel.Host.Options;

namespace Flannel.Host.Agent;

/// <summary>
/// The seeds a rejoining incarnation joins through: the configured ones without this node. Akka lets the first seed in
/// the list form a new cluster when no other seed answers within seed-node-timeout; a node that was cut off would then
/// start a second cluster on its side of the partition, and separate clusters never merge (two allocators, duplicate
/// subnets). So a rejoining node only ever joins the running cluster; with no other seed (a cluster of one) it forms
/// its own again, as at the first start.
/// </summary>
public static class RejoinSeeds
{
    public static IReadOnlyList<ClusterSeed> For(IReadOnlyList<ClusterSeed> seeds, Func<ClusterSeed, bool> isSelf) =>
        seeds.Where(s => !isSelf(s)).ToList();
}
