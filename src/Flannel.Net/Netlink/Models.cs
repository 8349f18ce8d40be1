using System.Net;

namespace Flannel.Net.Netlink;

/// <summary>A network interface as the kernel reports it.</summary>
public sealed record LinkInfo(
    int Index, string Name, uint Flags, int Mtu, MacAddress? Mac, string? Kind, int? ParentIndex, int? MasterIndex,
    VxlanInfo? Vxlan)
{
    public bool IsUp => (Flags & LinkFlags.IFF_UP) != 0;
}

/// <summary>The vxlan-specific part of a link (IFLA_INFO_DATA).</summary>
public sealed record VxlanInfo(uint Vni, IPAddress? Local, int? UnderlayIndex, ushort Port, bool Learning, bool Gbp);

/// <summary>What to create: a vxlan device. Port 0 lets the kernel use its default (8472).</summary>
public sealed record VxlanSpec(
    string Name, uint Vni, IPAddress Local, int UnderlayIndex, ushort Port = 0, bool Learning = false, bool Gbp = false,
    MacAddress? Mac = null, int? Mtu = null);

/// <summary>An IPv4 address on an interface.</summary>
public sealed record AddressInfo(int Index, IPAddress Address, int PrefixLength, byte Scope = Rt.SCOPE_UNIVERSE, string? Label = null)
{
    public IPNetwork Network => new IPNetwork(IPNetworks.Mask(Address, PrefixLength), PrefixLength);
    public override string ToString() => $"{Address}/{PrefixLength}";
}

/// <summary>
/// An IPv4 route. For requests: Scope null means "link" for device-only routes and "universe" for routes with a gateway;
/// Protocol defaults to flannel.NET's own protocol number so the route is recognisable later.
/// </summary>
public sealed record RouteInfo(
    IPNetwork Destination, IPAddress? Gateway, int? OutIndex, byte Protocol = Rt.PROT_FLANNEL, byte? Scope = null,
    bool OnLink = false, uint Table = Rt.TABLE_MAIN, uint? Metric = null, byte Type = Rt.TYPE_UNICAST, IPAddress? PreferredSource = null)
{
    public byte EffectiveScope => Scope ?? (Gateway is null ? Rt.SCOPE_LINK : Rt.SCOPE_UNIVERSE);

    /// <summary>Same forwarding decision (destination, next hop, device, onlink), ignoring metadata like protocol.</summary>
    public bool SameForwarding(RouteInfo other) =>
        Destination.Equals(other.Destination) && Equals(Gateway, other.Gateway) && OutIndex == other.OutIndex && OnLink == other.OnLink;
}

/// <summary>An IPv4 neighbour (ARP) entry.</summary>
public sealed record NeighborInfo(int Index, IPAddress Address, MacAddress? Mac, ushort State = Nud.PERMANENT, byte Flags = 0)
{
    public bool IsPermanent => (State & Nud.PERMANENT) != 0;
}

/// <summary>A bridge forwarding entry on a vxlan device: frames for Mac go to the VTEP at Destination.</summary>
public sealed record FdbEntry(int Index, MacAddress Mac, IPAddress? Destination, ushort State = Nud.PERMANENT, byte Flags = Nud.NTF_SELF)
{
    public bool IsPermanent => (State & Nud.PERMANENT) != 0;
}

internal static class IPNetworks
{
    public static IPAddress Mask(IPAddress address, int prefixLength)
    {
        var b = address.GetAddressBytes();
        for (var i = 0; i < b.Length; i++)
        {
            var bits = Math.Clamp(prefixLength - i * 8, 0, 8);
            b[i] &= (byte)(0xff << (8 - bits));
        }
        return new IPAddress(b);
    }
}
