using System.Net;

namespace Flannel.Actors.Leases;

/// <summary>What the Kubernetes API says about a node's podCIDR (the only source a RequiredSubnet may come from).</summary>
public abstract record NodeCidr
{
    /// <summary>The node list has not been read yet: nothing can be decided (a transient refusal).</summary>
    public sealed record Unknown : NodeCidr
    {
        public static readonly Unknown Instance = new();
    }

    /// <summary>The node list was read and has no node of that name.</summary>
    public sealed record NotFound : NodeCidr
    {
        public static readonly NotFound Instance = new();
    }

    /// <summary>The node exists; <paramref name="PodCidr"/> is its spec.podCIDR, null until the controller manager assigns one.</summary>
    public sealed record Found(IPNetwork? PodCidr) : NodeCidr;
}

/// <summary>
/// Node name -> podCIDR as read from the Kubernetes API, consulted synchronously by the lease allocator (so it must
/// answer from memory, thread-safely). Only present in Kubernetes mode: without one, RequiredSubnet claims and
/// node-deleted releases are refused.
/// </summary>
public interface INodeCidrAuthority
{
    NodeCidr Lookup(string node);
}
