using System.Net;
using Flannel.Actors.Leases;
using Flannel.Net.Config;
using Flannel.Net.Backends;

namespace Flannel.Actors.Routes;

/// <summary>
/// A Kubernetes Node as a possible peer from its annotations alone (a node running upstream flannel, or one of ours
/// whose agent is not in the cluster right now).
/// </summary>
/// <param name="Managed">flannel's kube-subnet-manager annotation is "true": its agent announced itself.</param>
/// <param name="PublicIp">public-ip-overwrite, else public-ip; null when absent or unparsable.</param>
public sealed record ForeignNode(string Name, IPNetwork? PodCidr, bool Managed, string? BackendType, string? BackendData, IPAddress? PublicIp);

/// <summary>
/// What the route programmer knows beyond the lease table in Kubernetes mode: every Node with flannel annotations and
/// which hosts run a live member of our cluster (an Akka member's address host: agents bind remoting to their public IP).
/// </summary>
/// <param name="MemberHosts">Hosts of the live members; null = membership unknown (every lease counts as a member's).</param>
public sealed record ForeignNodeView(IReadOnlyList<ForeignNode> Nodes, IReadOnlySet<string>? MemberHosts)
{
    public static ForeignNodeView Empty { get; } = new([], null);
}

/// <summary>A peer programmed from a Node's annotations.</summary>
public sealed record ForeignPeer(string Node, PeerLease Peer);

/// <summary>The peers to program and where each came from.</summary>
/// <param name="Selection">Accepted peers (sorted by subnet) and refusals, lease entries and foreign nodes alike.</param>
/// <param name="Foreign">Accepted peers that came from Kubernetes annotations, by subnet, with their node.</param>
/// <param name="ForeignNodes">Names of the nodes taken from annotations (accepted or refused): labels refusals.</param>
public sealed record MergedPeers(PeerSelection Selection, IReadOnlyDictionary<IPNetwork, string> Foreign, IReadOnlySet<string> ForeignNodes)
{
    public const string LeaseSource = "lease table";
    public const string KubeSource = "kube annotations";

    public string SourceOf(IPNetwork subnet) => Foreign.ContainsKey(subnet) ? KubeSource : LeaseSource;
}

/// <summary>
/// Merges the replicated lease table with Kubernetes Nodes that are not members of our cluster (issue #17: a cluster
/// half on upstream flannel). A member's lease always stands; a Node carrying flannel's annotations for the running
/// backend type whose node has no member's lease becomes a peer from its podCIDR and annotations, judged by the same
/// <see cref="PeerFilter"/> as lease entries plus one rule of its own: it may not overlap a member's lease. A lease of a
/// node that left the cluster gives way to that node's annotations (they are what its agent, ours or upstream's, says
/// now). When a node moves between the two sources with the same subnet, public IP and backend data, the merged peer is
/// equal and nothing is reprogrammed. Pure.
/// </summary>
public static class ForeignPeers
{
    public static MergedPeers Merge(IEnumerable<Lease> leases, ForeignNodeView view, LocalNode self, string backendType, DateTimeOffset now)
    {
        var live = leases.Where(l => l is not null && l.Node != self.Name && !l.IsExpired(now)).Order(LeasePrecedence.Order).ToList();
        var members = new List<Lease>();
        var departed = new List<Lease>();
        foreach (var l in live) (IsMember(l, view.MemberHosts) ? members : departed).Add(l);
        var memberNodes = members.Select(l => l.Node).ToHashSet(StringComparer.Ordinal);

        var foreign = view.Nodes
            .Where(n => n.Managed && n.PodCidr is not null && n.Name != self.Name && !memberNodes.Contains(n.Name)
                        && string.Equals(n.BackendType, backendType, StringComparison.Ordinal))
            .OrderBy(n => n.Name, StringComparer.Ordinal)
            .ToList();
        var foreignNames = foreign.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);

        var memberSubnets = new SubnetIndex(members.Select(l => l.Subnet));
        var refused = new List<RejectedPeer>();
        var candidates = new List<(PeerLease, string?)>(live.Count + foreign.Count);
        candidates.AddRange(members.Select(l => (l.ToPeerLease(), (string?)l.Node)));
        foreach (var n in foreign)
        {
            var peer = new PeerLease(n.PodCidr!.Value, n.PublicIp ?? IPAddress.Any, backendType, Canonical(backendType, n.BackendData));
            if (memberSubnets.Overlaps(peer.Subnet)) refused.Add(new RejectedPeer(peer, PeerRejectReason.OverlapsMemberLease, n.Name));
            else candidates.Add((peer, n.Name));
        }
        // Leases of nodes that left: kept until they expire, unless the node's annotations now speak for it.
        candidates.AddRange(departed.Where(l => !foreignNames.Contains(l.Node)).Select(l => (l.ToPeerLease(), (string?)l.Node)));

        var selection = PeerFilter.Apply(candidates, self.Network, self.Lease, self.PublicIp);
        var accepted = selection.Accepted.ToHashSet();
        var bySubnet = new Dictionary<IPNetwork, string>();
        foreach (var n in foreign)
        {
            var subnet = n.PodCidr!.Value;
            if (accepted.Contains(new PeerLease(subnet, n.PublicIp ?? IPAddress.Any, backendType, Canonical(backendType, n.BackendData))))
                bySubnet[subnet] = n.Name;
        }
        return new MergedPeers(refused.Count == 0 ? selection : selection with { Rejected = [.. refused, .. selection.Rejected] },
            bySubnet, foreignNames);
    }

    /// <summary>
    /// vxlan data in our lease's spelling ({"VNI":1,"VtepMAC":"..."}): upstream v0.7.1 writes {"VtepMAC":"..."} only, HEAD
    /// adds the VNI; equal content must compare equal, so a node moving between the two sources is not "changed".
    /// Unparsable data is kept as it is (PeerFilter refuses it).
    /// </summary>
    public static string? Canonical(string backendType, string? data) =>
        backendType == Flannel.Net.Config.BackendConfig.Vxlan && VxlanLeaseData.TryParse(data) is { } v ? v.ToJson() : data;

    /// <summary>
    /// A lease is a live member's when a member runs on its owner's host or its public IP (agents bind remoting to their
    /// public IP). Unknown membership, or an entry without an owner on a member's public IP, counts as a member's.
    /// </summary>
    public static bool IsMember(Lease lease, IReadOnlySet<string>? memberHosts)
    {
        if (memberHosts is null) return true;
        if (memberHosts.Contains(lease.PublicIp.ToString())) return true;
        return lease.Owner is { } owner && Uri.TryCreate(owner, UriKind.Absolute, out var uri) && memberHosts.Contains(uri.Host);
    }

    /// <summary>Answers "does this subnet overlap any of these" in O(prefix lengths) per question.</summary>
    private sealed class SubnetIndex
    {
        // bases[p]: the base addresses of the indexed subnets of prefix length p.
        private readonly HashSet<uint>?[] _bases = new HashSet<uint>?[33];

        public SubnetIndex(IEnumerable<IPNetwork> subnets)
        {
            foreach (var s in subnets)
                if (s.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                    (_bases[s.PrefixLength] ??= []).Add(AddressMath.ToUInt32(s.BaseAddress));
        }

        public bool Overlaps(IPNetwork subnet)
        {
            if (subnet.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return false;
            var b = AddressMath.ToUInt32(subnet.BaseAddress);
            for (var p = 0; p <= 32; p++)
            {
                if (_bases[p] is not { } set) continue;
                // An indexed subnet of length p contains ours (p <= ours), or ours contains it (p > ours).
                if (p <= subnet.PrefixLength ? set.Contains(b & AddressMath.Mask4(p)) : set.Any(x => (x & AddressMath.Mask4(subnet.PrefixLength)) == b))
                    return true;
            }
            return false;
        }
    }
}
