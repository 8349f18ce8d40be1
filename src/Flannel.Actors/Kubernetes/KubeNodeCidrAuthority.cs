using System.Collections.Immutable;
using System.Net;
using Flannel.Actors.Leases;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// The Kubernetes nodes' podCIDRs as this agent's node watcher last saw them, for the lease allocator (which may run
/// on this node) to consult synchronously. Until the first complete list every node it has not seen is
/// <see cref="NodeCidr.Unknown"/>; afterwards a missing node is <see cref="NodeCidr.NotFound"/>. Fed by
/// <see cref="NodeCidrFeederActor"/>; reads and writes may come from different threads (one immutable map, swapped).
/// </summary>
public sealed class KubeNodeCidrAuthority : INodeCidrAuthority
{
    private State _state = new(ImmutableDictionary<string, IPNetwork?>.Empty.WithComparers(StringComparer.Ordinal), false);

    private sealed record State(ImmutableDictionary<string, IPNetwork?> Nodes, bool Synced);

    public bool Synced => Volatile.Read(ref _state).Synced;

    public NodeCidr Lookup(string node)
    {
        var state = Volatile.Read(ref _state);
        if (state.Nodes.TryGetValue(node, out var cidr)) return new NodeCidr.Found(cidr);
        return state.Synced ? NodeCidr.NotFound.Instance : NodeCidr.Unknown.Instance;
    }

    /// <summary>A node was added or changed.</summary>
    public void Set(KubeNodeInfo node) => Swap(s => s with { Nodes = s.Nodes.SetItem(node.Name, node.PodCidr) });

    public void Remove(string node) => Swap(s => s with { Nodes = s.Nodes.Remove(node) });

    /// <summary>A complete (re)list: exactly these nodes exist.</summary>
    public void Replace(IEnumerable<KubeNodeInfo> nodes)
    {
        var map = ImmutableDictionary.CreateBuilder<string, IPNetwork?>(StringComparer.Ordinal);
        foreach (var n in nodes) map[n.Name] = n.PodCidr;
        var listed = new State(map.ToImmutable(), true);
        Swap(_ => listed);
    }

    // One writer (the feeder actor), but keep it correct for any number.
    private void Swap(Func<State, State> change)
    {
        while (true)
        {
            var before = Volatile.Read(ref _state);
            if (Interlocked.CompareExchange(ref _state, change(before), before) == before) return;
        }
    }
}
