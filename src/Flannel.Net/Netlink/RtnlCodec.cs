using System.Buffers.Binary;
using System.Net;

namespace Flannel.Net.Netlink;

/// <summary>
/// Encodes rtnetlink requests and decodes kernel messages (the payload after the nlmsghdr). Pure functions, no socket,
/// so the byte layouts are unit-testable.
/// </summary>
public static class RtnlCodec
{
    private const ushort Ack = Nl.NLM_F_REQUEST | Nl.NLM_F_ACK;

    // ---- links ----

    public static NetlinkMessageWriter DumpLinks() =>
        new NetlinkMessageWriter(Rtm.GETLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP).IfInfo(Nl.AF_UNSPEC, 0);

    public static NetlinkMessageWriter GetLink(int index) =>
        new NetlinkMessageWriter(Rtm.GETLINK, Ack).IfInfo(Nl.AF_UNSPEC, index);

    public static NetlinkMessageWriter GetLink(string name) =>
        new NetlinkMessageWriter(Rtm.GETLINK, Ack).IfInfo(Nl.AF_UNSPEC, 0).String(Attr.IFLA_IFNAME, CheckName(name));

    public static NetlinkMessageWriter CreateVxlan(VxlanSpec spec)
    {
        var w = new NetlinkMessageWriter(Rtm.NEWLINK, Ack | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL)
            .IfInfo(Nl.AF_UNSPEC, 0)
            .String(Attr.IFLA_IFNAME, CheckName(spec.Name));
        if (spec.Mac is { } mac) w.Attr(Attr.IFLA_ADDRESS, mac.ToBytes());
        if (spec.Mtu is { } mtu) w.U32(Attr.IFLA_MTU, (uint)mtu);
        w.BeginNested(Attr.IFLA_LINKINFO)
            .String(Attr.IFLA_INFO_KIND, "vxlan")
            .BeginNested(Attr.IFLA_INFO_DATA)
            .U32(Attr.IFLA_VXLAN_ID, spec.Vni)
            .U32(Attr.IFLA_VXLAN_LINK, (uint)spec.UnderlayIndex)
            .Address(Attr.IFLA_VXLAN_LOCAL, spec.Local)
            .U8(Attr.IFLA_VXLAN_LEARNING, spec.Learning ? (byte)1 : (byte)0)
            .U8(Attr.IFLA_VXLAN_L2MISS, 0)
            .U8(Attr.IFLA_VXLAN_L3MISS, 0);
        if (spec.Port != 0) w.U16BigEndian(Attr.IFLA_VXLAN_PORT, spec.Port);
        if (spec.Gbp) w.Flag(Attr.IFLA_VXLAN_GBP);
        return w.EndNested().EndNested();
    }

    public static NetlinkMessageWriter SetLinkUp(int index, bool up) =>
        new NetlinkMessageWriter(Rtm.SETLINK, Ack).IfInfo(Nl.AF_UNSPEC, index, up ? LinkFlags.IFF_UP : 0, LinkFlags.IFF_UP);

    public static NetlinkMessageWriter SetLinkMtu(int index, int mtu) =>
        new NetlinkMessageWriter(Rtm.SETLINK, Ack).IfInfo(Nl.AF_UNSPEC, index).U32(Attr.IFLA_MTU, (uint)mtu);

    public static NetlinkMessageWriter SetLinkMac(int index, MacAddress mac) =>
        new NetlinkMessageWriter(Rtm.SETLINK, Ack).IfInfo(Nl.AF_UNSPEC, index).Attr(Attr.IFLA_ADDRESS, mac.ToBytes());

    public static NetlinkMessageWriter DeleteLink(int index) =>
        new NetlinkMessageWriter(Rtm.DELLINK, Ack).IfInfo(Nl.AF_UNSPEC, index);

    public static LinkInfo DecodeLink(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 16) throw new FormatException($"netlink: link message of {payload.Length} bytes is shorter than ifinfomsg");
        var index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        string name = "";
        int mtu = 0;
        MacAddress? mac = null;
        string? kind = null;
        int? parent = null, master = null;
        VxlanInfo? vxlan = null;
        foreach (var a in new NetlinkAttributeReader(payload[16..]))
        {
            switch (a.Type)
            {
                case Attr.IFLA_IFNAME: name = a.String; break;
                case Attr.IFLA_MTU: mtu = a.I32; break;
                case Attr.IFLA_ADDRESS when a.Value.Length == 6: mac = MacAddress.FromBytes(a.Value); break;
                case Attr.IFLA_LINK: parent = a.I32; break;
                case Attr.IFLA_MASTER: master = a.I32; break;
                case Attr.IFLA_LINKINFO:
                    ReadOnlySpan<byte> data = default;
                    foreach (var li in a.Nested)
                    {
                        if (li.Type == Attr.IFLA_INFO_KIND) kind = li.String;
                        else if (li.Type == Attr.IFLA_INFO_DATA) data = li.Value;
                    }
                    if (kind == "vxlan" && !data.IsEmpty) vxlan = DecodeVxlan(data);
                    break;
            }
        }
        return new LinkInfo(index, name, flags, mtu, mac, kind, parent, master, vxlan);
    }

    private static VxlanInfo DecodeVxlan(ReadOnlySpan<byte> data)
    {
        uint vni = 0;
        IPAddress? local = null;
        int? underlay = null;
        ushort port = 0;
        bool learning = false, gbp = false;
        foreach (var a in new NetlinkAttributeReader(data))
        {
            switch (a.Type)
            {
                case Attr.IFLA_VXLAN_ID: vni = a.U32; break;
                case Attr.IFLA_VXLAN_LOCAL: local = a.Address; break;
                case Attr.IFLA_VXLAN_LINK: underlay = a.I32; break;
                case Attr.IFLA_VXLAN_PORT: port = a.U16BigEndian; break;
                case Attr.IFLA_VXLAN_LEARNING: learning = a.U8 != 0; break;
                case Attr.IFLA_VXLAN_GBP: gbp = true; break;
            }
        }
        return new VxlanInfo(vni, local, underlay, port, learning, gbp);
    }

    // ---- addresses ----

    public static NetlinkMessageWriter DumpAddresses() =>
        new NetlinkMessageWriter(Rtm.GETADDR, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP).IfAddr(Nl.AF_INET, 0, 0, 0, 0);

    public static NetlinkMessageWriter AddAddress(AddressInfo a) => Address(Rtm.NEWADDR, Ack | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, a);

    public static NetlinkMessageWriter DeleteAddress(AddressInfo a) => Address(Rtm.DELADDR, Ack, a);

    private static NetlinkMessageWriter Address(ushort type, ushort flags, AddressInfo a)
    {
        RequireV4(a.Address, "address");
        return new NetlinkMessageWriter(type, flags)
            .IfAddr(Nl.AF_INET, (byte)a.PrefixLength, 0, a.Scope, a.Index)
            .Address(Attr.IFA_LOCAL, a.Address)
            .Address(Attr.IFA_ADDRESS, a.Address);
    }

    /// <summary>Returns null for non-IPv4 addresses.</summary>
    public static AddressInfo? DecodeAddress(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 8) throw new FormatException($"netlink: address message of {payload.Length} bytes is shorter than ifaddrmsg");
        if (payload[0] != Nl.AF_INET) return null;
        var prefix = payload[1];
        var scope = payload[3];
        var index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        IPAddress? local = null, address = null;
        string? label = null;
        foreach (var a in new NetlinkAttributeReader(payload[8..]))
        {
            switch (a.Type)
            {
                case Attr.IFA_LOCAL: local = a.Address; break;
                case Attr.IFA_ADDRESS: address = a.Address; break;
                case Attr.IFA_LABEL: label = a.String; break;
            }
        }
        var ip = local ?? address;
        return ip is null ? null : new AddressInfo(index, ip, prefix, scope, label);
    }

    // ---- routes ----

    public static NetlinkMessageWriter DumpRoutes() =>
        new NetlinkMessageWriter(Rtm.GETROUTE, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP).RtMsg(Nl.AF_INET, 0, 0, 0, 0, 0, 0);

    public static NetlinkMessageWriter AddRoute(RouteInfo r) => Route(Rtm.NEWROUTE, Ack | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, r, r.EffectiveScope);

    public static NetlinkMessageWriter ReplaceRoute(RouteInfo r) => Route(Rtm.NEWROUTE, Ack | Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE, r, r.EffectiveScope);

    /// <summary>Scope "nowhere" on delete makes the kernel match any scope, like `ip route del`.</summary>
    public static NetlinkMessageWriter DeleteRoute(RouteInfo r) => Route(Rtm.DELROUTE, Ack, r, r.Scope ?? Rt.SCOPE_NOWHERE);

    private static NetlinkMessageWriter Route(ushort type, ushort flags, RouteInfo r, byte scope)
    {
        RequireV4(r.Destination.BaseAddress, "route destination");
        var w = new NetlinkMessageWriter(type, flags)
            .RtMsg(Nl.AF_INET, (byte)r.Destination.PrefixLength, r.Table < 256 ? (byte)r.Table : (byte)0, r.Protocol, scope, r.Type,
                r.OnLink ? Rt.F_ONLINK : 0)
            .U32(Attr.RTA_TABLE, r.Table);
        if (r.Destination.PrefixLength > 0) w.Address(Attr.RTA_DST, r.Destination.BaseAddress);
        if (r.Gateway is { } gw) { RequireV4(gw, "gateway"); w.Address(Attr.RTA_GATEWAY, gw); }
        if (r.OutIndex is { } oif) w.U32(Attr.RTA_OIF, (uint)oif);
        if (r.Metric is { } m) w.U32(Attr.RTA_PRIORITY, m);
        if (r.PreferredSource is { } src) w.Address(Attr.RTA_PREFSRC, src);
        return w;
    }

    /// <summary>Returns null for non-IPv4 routes.</summary>
    public static RouteInfo? DecodeRoute(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 12) throw new FormatException($"netlink: route message of {payload.Length} bytes is shorter than rtmsg");
        if (payload[0] != Nl.AF_INET) return null;
        var dstLen = payload[1];
        uint table = payload[4];
        var protocol = payload[5];
        var scope = payload[6];
        var rtype = payload[7];
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        IPAddress dst = IPAddress.Any;
        IPAddress? gw = null, src = null;
        int? oif = null;
        uint? metric = null;
        foreach (var a in new NetlinkAttributeReader(payload[12..]))
        {
            switch (a.Type)
            {
                case Attr.RTA_DST: dst = a.Address; break;
                case Attr.RTA_GATEWAY: gw = a.Address; break;
                case Attr.RTA_OIF: oif = a.I32; break;
                case Attr.RTA_PRIORITY: metric = a.U32; break;
                case Attr.RTA_TABLE: table = a.U32; break;
                case Attr.RTA_PREFSRC: src = a.Address; break;
            }
        }
        return new RouteInfo(new IPNetwork(dst, dstLen), gw, oif, protocol, scope, (flags & Rt.F_ONLINK) != 0, table, metric, rtype, src);
    }

    // ---- neighbours and FDB ----

    public static NetlinkMessageWriter DumpNeighbors(byte family) =>
        new NetlinkMessageWriter(Rtm.GETNEIGH, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP).NdMsg(family, 0, 0, 0);

    /// <summary>Create or replace: re-adding an entry with a new MAC updates it in place.</summary>
    public static NetlinkMessageWriter SetNeighbor(NeighborInfo n)
    {
        RequireV4(n.Address, "neighbour address");
        var w = new NetlinkMessageWriter(Rtm.NEWNEIGH, Ack | Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE)
            .NdMsg(Nl.AF_INET, n.Index, n.State, n.Flags)
            .Address(Attr.NDA_DST, n.Address);
        if (n.Mac is { } mac) w.Attr(Attr.NDA_LLADDR, mac.ToBytes());
        return w;
    }

    public static NetlinkMessageWriter DeleteNeighbor(NeighborInfo n) =>
        new NetlinkMessageWriter(Rtm.DELNEIGH, Ack).NdMsg(Nl.AF_INET, n.Index, 0, 0).Address(Attr.NDA_DST, n.Address);

    /// <summary>Appends a (MAC, VTEP) pair like `bridge fdb append ... self permanent`: a MAC may have several remotes.</summary>
    public static NetlinkMessageWriter AddFdb(FdbEntry e)
    {
        var w = new NetlinkMessageWriter(Rtm.NEWNEIGH, Ack | Nl.NLM_F_CREATE | Nl.NLM_F_APPEND)
            .NdMsg(Nl.AF_BRIDGE, e.Index, e.State, e.Flags)
            .Attr(Attr.NDA_LLADDR, e.Mac.ToBytes());
        if (e.Destination is { } dst) { RequireV4(dst, "FDB destination"); w.Address(Attr.NDA_DST, dst); }
        return w;
    }

    public static NetlinkMessageWriter DeleteFdb(FdbEntry e)
    {
        var w = new NetlinkMessageWriter(Rtm.DELNEIGH, Ack)
            .NdMsg(Nl.AF_BRIDGE, e.Index, 0, e.Flags)
            .Attr(Attr.NDA_LLADDR, e.Mac.ToBytes());
        if (e.Destination is { } dst) w.Address(Attr.NDA_DST, dst);
        return w;
    }

    /// <summary>Decodes an AF_INET neighbour; null for other families.</summary>
    public static NeighborInfo? DecodeNeighbor(ReadOnlySpan<byte> payload)
    {
        var (family, index, state, flags) = NdHeader(payload);
        if (family != Nl.AF_INET) return null;
        IPAddress? dst = null;
        MacAddress? mac = null;
        foreach (var a in new NetlinkAttributeReader(payload[12..]))
        {
            if (a.Type == Attr.NDA_DST) dst = a.Address;
            else if (a.Type == Attr.NDA_LLADDR && a.Value.Length == 6) mac = MacAddress.FromBytes(a.Value);
        }
        return dst is null ? null : new NeighborInfo(index, dst, mac, state, flags);
    }

    /// <summary>Decodes an AF_BRIDGE (FDB) entry; null for other families.</summary>
    public static FdbEntry? DecodeFdb(ReadOnlySpan<byte> payload)
    {
        var (family, index, state, flags) = NdHeader(payload);
        if (family != Nl.AF_BRIDGE) return null;
        IPAddress? dst = null;
        MacAddress? mac = null;
        foreach (var a in new NetlinkAttributeReader(payload[12..]))
        {
            if (a.Type == Attr.NDA_DST) dst = a.Address;
            else if (a.Type == Attr.NDA_LLADDR && a.Value.Length == 6) mac = MacAddress.FromBytes(a.Value);
        }
        return mac is null ? null : new FdbEntry(index, mac.Value, dst, state, flags);
    }

    private static (byte Family, int Index, ushort State, byte Flags) NdHeader(ReadOnlySpan<byte> p)
    {
        if (p.Length < 12) throw new FormatException($"netlink: neighbour message of {p.Length} bytes is shorter than ndmsg");
        return (p[0], BinaryPrimitives.ReadInt32LittleEndian(p[4..]), BinaryPrimitives.ReadUInt16LittleEndian(p[8..]), p[10]);
    }

    private static string CheckName(string name) =>
        name.Length is > 0 and < 16 ? name : throw new ArgumentException($"interface name '{name}' must be 1..15 characters", nameof(name));

    private static void RequireV4(IPAddress a, string what)
    {
        if (a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new ArgumentException($"netlink: {what} {a} is not IPv4");
    }
}
