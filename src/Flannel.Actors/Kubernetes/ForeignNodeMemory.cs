using Flannel.Actors.Routes;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// The Node list the last <see cref="ForeignNodesActor"/> of this process knew, kept across actor-system incarnations
/// like the lease table in <see cref="Node.AgentStatus"/>. A rejoining incarnation starts from it: its route programmer
/// waits for a Node view before its first pass (so it does not withdraw the routes of Nodes outside the cluster), and
/// right after a partition heals the API server may answer only after the cluster has been rejoined. One writer at a
/// time (the current incarnation's actor); an immutable list, swapped.
/// </summary>
public sealed class ForeignNodeMemory
{
    private IReadOnlyList<ForeignNode>? _last;

    /// <summary>Null until an incarnation has listed the Nodes.</summary>
    public IReadOnlyList<ForeignNode>? Last => Volatile.Read(ref _last);

    internal void Remember(IReadOnlyList<ForeignNode> nodes) => Volatile.Write(ref _last, nodes);
}
