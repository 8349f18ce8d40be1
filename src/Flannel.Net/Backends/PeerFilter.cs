using System.Net;
using System.Net.Sockets;
using Flannel.Net.Config;

namespace Flannel.Net.Backends;

/// <summary>Why a lease table entry is not programmed as a peer (metric label and log field: <see cref="PeerFilter.Label"/>).</summary>
public enum PeerRejectReason
{
    /// <summary>Subnet or public IP is not IPv4 (the project's data path is IPv4 only).</summary>
    NotIpv4,
    /// <summary>Subnet not inside the cluster's Network (e.g. 0.0.0.0/0, 169.254.169.254/32, a service range).</summary>
    OutsideNetwork,
    /// <summary>Subnet overlaps this node's own lease.</summary>
    OverlapsOwnLease,
    /// <summary>Public IP unspecified, loopback, multicast, broadcast, link-local (169.254/16) or reserved (240/4).</summary>
    PublicIpNotUnicast,
    /// <summary>Public IP inside Network: traffic for the overlay would be sent into the overlay.</summary>
    PublicIpInsideNetwork,
    /// <summary>Public IP is this node's own: the route would point back at ourselves.</summary>
    OwnPublicIp,
    /// <summary>vxlan entry without parseable backend data or with a multicast/zero VtepMAC.</summary>
    BadVxlanData,
    /// <summary>A second entry for a subnet already held by another entry (the other one won; see LeasePrecedence).</summary>
    DuplicateSubnet,
    /// <summary>Subnet overlaps a peer subnet accepted before it.</summary>
    OverlapsPeer,
    /// <summary>More valid entries than <see cref="PeerFilter.MaxPeers"/>.</summary>
    TooManyPeers,
    /// <summary>A node outside the cluster (Kubernetes annotations only) whose podCIDR overlaps a member's lease: members win.</summary>
    OverlapsMemberLease,
}

/// <summary>One entry that was not accepted, and why.</summary>
public sealed record RejectedPeer(PeerLease Peer, PeerRejectReason Reason, string? Node = null);

/// <summary>What a node may program: <see cref="Accepted"/> (sorted by subnet) and everything else with its reason.</summary>
public sealed record PeerSelection(IReadOnlyList<PeerLease> Accepted, IReadOnlyList<RejectedPeer> Rejected)
{
    public static PeerSelection Empty { get; } = new([], []);
}

/// <summary>
/// The only gate between the replicated lease table (which any member, or a bug, can fill with anything) and the kernel:
/// a peer is programmed only when its subnet is inside Network and does not overlap the own lease or another accepted
/// peer, and its public IP is a unicast address outside Network that is not our own. Pure; backends apply
/// <see cref="Check"/> again before they touch the kernel, so a caller that forgets the filter still cannot route
/// outside Network.
/// </summary>
public static class PeerFilter
{
    /// <summary>
    /// At most this many peers are programmed. Kubernetes supports 5,000 nodes per cluster; each vxlan peer costs three
    /// kernel objects and every reconcile pass compares them all, so a table flooded with valid-looking entries must not
    /// turn into hundreds of thousands of routes or a pass that takes minutes. 8,192 is well above any real cluster.
    /// </summary>
    public const int MaxPeers = 8192;

    /// <summary>The first rule <paramref name="peer"/> breaks on its own (without looking at other peers), or null.</summary>
    public static PeerRejectReason? Check(PeerLease peer, IPNetwork network, IPNetwork? ownLease, IPAddress? ownPublicIp)
    {
        if (peer.Subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork ||
            peer.PublicIp.AddressFamily != AddressFamily.InterNetwork)
            return PeerRejectReason.NotIpv4;
        if (!Inside(peer.Subnet, network)) return PeerRejectReason.OutsideNetwork;
        if (ownLease is { } own && AddressMath.Overlap(peer.Subnet, own)) return PeerRejectReason.OverlapsOwnLease;
        if (!IsUnicast(peer.PublicIp)) return PeerRejectReason.PublicIpNotUnicast;
        if (network.Contains(peer.PublicIp)) return PeerRejectReason.PublicIpInsideNetwork;
        if (ownPublicIp is not null && peer.PublicIp.Equals(ownPublicIp)) return PeerRejectReason.OwnPublicIp;
        if (string.Equals(peer.BackendType, BackendConfig.Vxlan, StringComparison.Ordinal) &&
            !IsUnicastMac(VxlanLeaseData.TryParse(peer.BackendData)?.VtepMac))
            return PeerRejectReason.BadVxlanData;
        return null;
    }

    /// <summary>
    /// Applies <see cref="Check"/> to every entry, then keeps at most one per subnet (the first in
    /// <paramref name="candidates"/> order: the caller puts the winning entry of a subnet first), rejects entries that
    /// overlap an already accepted one (most specific subnets first: a broad entry can never hide many peers, and the
    /// kernel's longest-prefix match would have preferred the narrower route for that range anyway) and caps the
    /// result at <see cref="MaxPeers"/>. Deterministic for a given input order; O(n log n).
    /// </summary>
    public static PeerSelection Apply(
        IEnumerable<(PeerLease Peer, string? Node)> candidates, IPNetwork network, IPNetwork? ownLease, IPAddress? ownPublicIp)
    {
        var rejected = new List<RejectedPeer>();
        var valid = new List<(PeerLease Peer, string? Node, uint Base, int Length, int Order)>();
        var seen = new HashSet<IPNetwork>();
        var order = 0;
        foreach (var (peer, node) in candidates)
        {
            if (Check(peer, network, ownLease, ownPublicIp) is { } reason)
                rejected.Add(new RejectedPeer(peer, reason, node));
            else if (!seen.Add(peer.Subnet))
                rejected.Add(new RejectedPeer(peer, PeerRejectReason.DuplicateSubnet, node));
            else
                valid.Add((peer, node, AddressMath.ToUInt32(peer.Subnet.BaseAddress), peer.Subnet.PrefixLength, order++));
        }

        // Most specific first, then by address; the input order only breaks ties between identical subnets (none left).
        valid.Sort((a, b) => a.Length != b.Length ? b.Length.CompareTo(a.Length) : a.Base != b.Base ? a.Base.CompareTo(b.Base) : a.Order.CompareTo(b.Order));
        // covered[p] holds, for every accepted subnet, its address masked to prefix length p (for every p up to its own
        // length): a later (shorter or equal) candidate of length p overlaps an accepted one exactly when its base is there.
        var covered = new HashSet<uint>?[33];
        var accepted = new List<PeerLease>();
        foreach (var v in valid)
        {
            if (covered[v.Length]?.Contains(v.Base) == true)
            {
                rejected.Add(new RejectedPeer(v.Peer, PeerRejectReason.OverlapsPeer, v.Node));
                continue;
            }
            if (accepted.Count >= MaxPeers)
            {
                rejected.Add(new RejectedPeer(v.Peer, PeerRejectReason.TooManyPeers, v.Node));
                continue;
            }
            accepted.Add(v.Peer);
            for (var p = network.PrefixLength; p <= v.Length; p++) (covered[p] ??= []).Add(v.Base & AddressMath.Mask4(p));
        }
        accepted.Sort((a, b) =>
        {
            var c = AddressMath.ToUInt32(a.Subnet.BaseAddress).CompareTo(AddressMath.ToUInt32(b.Subnet.BaseAddress));
            return c != 0 ? c : a.Subnet.PrefixLength.CompareTo(b.Subnet.PrefixLength);
        });
        return new PeerSelection(accepted, rejected);
    }

    /// <summary>True when <paramref name="subnet"/> lies within <paramref name="network"/> (equal included), both IPv4.</summary>
    public static bool Inside(IPNetwork subnet, IPNetwork network) =>
        subnet.BaseAddress.AddressFamily == AddressFamily.InterNetwork &&
        network.BaseAddress.AddressFamily == AddressFamily.InterNetwork &&
        subnet.PrefixLength >= network.PrefixLength && network.Contains(subnet.BaseAddress);

    /// <summary>An IPv4 address a host can be reached at: not 0/8, loopback, link-local, multicast, 240/4 or broadcast.</summary>
    public static bool IsUnicast(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork) return false;
        var a = AddressMath.ToUInt32(address);
        var first = a >> 24;
        return first != 0 && first != 127 && (a & 0xFFFF0000) != 0xA9FE0000 && first < 224;
    }

    /// <summary>A MAC a VTEP can have: not zero, not multicast/broadcast (I/G bit clear).</summary>
    public static bool IsUnicastMac(Netlink.MacAddress? mac) => mac is { } m && !m.IsZero && (m.Value >> 40 & 1) == 0;

    /// <summary>Metric label / log value of a reason: snake_case.</summary>
    public static string Label(PeerRejectReason reason) => reason switch
    {
        PeerRejectReason.NotIpv4 => "not_ipv4",
        PeerRejectReason.OutsideNetwork => "outside_network",
        PeerRejectReason.OverlapsOwnLease => "overlaps_own_lease",
        PeerRejectReason.PublicIpNotUnicast => "public_ip_not_unicast",
        PeerRejectReason.PublicIpInsideNetwork => "public_ip_inside_network",
        PeerRejectReason.OwnPublicIp => "own_public_ip",
        PeerRejectReason.BadVxlanData => "bad_vxlan_data",
        PeerRejectReason.DuplicateSubnet => "duplicate_subnet",
        PeerRejectReason.OverlapsPeer => "overlaps_peer",
        PeerRejectReason.TooManyPeers => "too_many_peers",
        PeerRejectReason.OverlapsMemberLease => "overlaps_member_lease",
        _ => reason.ToString().ToLowerInvariant(),
    };

}
