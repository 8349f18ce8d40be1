using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Flannel.Net.Tunnel;

/// <summary>This node's lease as the data path compares it: host-order network and mask.</summary>
internal sealed class LocalSubnet
{
    public LocalSubnet(IPNetwork subnet)
    {
        if (subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"local subnet {subnet} must be IPv4", nameof(subnet));
        Mask = Flannel.Net.Config.AddressMath.Mask4(subnet.PrefixLength);
        Network = PeerTable.ToHost(subnet.BaseAddress) & Mask;
    }

    public uint Network { get; }
    public uint Mask { get; }
}

/// <summary>
/// The receive-side check on the inner packet of a datagram from a known peer (issue #11 T4): flannel's own proxy writes
/// whatever a peer sends to the TUN, so any node (or anyone spoofing its address) could inject packets with any source
/// towards any destination reachable from this host. A packet is delivered only when its destination is inside this
/// node's lease and its source inside a subnet of the sending peer (the peer that owns the outer source address).
/// Host-order compares, no allocation; the peer's own route is tried first, the table only for a peer with several.
/// </summary>
internal static class InnerAddressCheck
{
    /// <summary>True when the packet may be delivered; otherwise <paramref name="reason"/> says why not.</summary>
    /// <param name="local">This node's lease; null (not known yet) refuses every packet.</param>
    /// <param name="peer">The route found for the datagram's outer source address.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Accept(uint source, uint destination, LocalSubnet? local, PeerRoute peer, PeerTable table, out DropReason reason)
    {
        if (local is null || (destination & local.Mask) != local.Network)
        {
            reason = DropReason.ForeignDestination;
            return false;
        }
        if ((source & peer.Mask) != peer.Network && table.Lookup(source)?.PublicIp != peer.PublicIp)
        {
            reason = DropReason.ForeignSource;
            return false;
        }
        reason = default;
        return true;
    }
}
