using System.Net;

namespace Flannel.Net.Netlink;

/// <summary>
/// rtnetlink operations on links, IPv4 addresses, routes, neighbours and bridge FDB entries.
/// Works in the network namespace of the thread that constructed it (see <see cref="NetlinkSocket"/>); thread-safe.
/// Every failure is a <see cref="NetlinkException"/> saying what was being done.
/// </summary>
public sealed class RtNetlink : IDisposable
{
    private readonly NetlinkSocket _socket;

    public RtNetlink() => _socket = new NetlinkSocket();

    /// <summary>Opens a client in the calling thread's network namespace.</summary>
    public static RtNetlink Open() => new();

    // ---- links ----

    public IReadOnlyList<LinkInfo> GetLinks()
    {
        var links = new List<LinkInfo>();
        _socket.Request(RtnlCodec.DumpLinks(), "list links", m =>
        {
            if (m.Type == Rtm.NEWLINK) links.Add(RtnlCodec.DecodeLink(m.Payload));
        });
        return links;
    }

    /// <summary>The link with this name, or null when there is none.</summary>
    public LinkInfo? GetLink(string name) => GetLinkOrNull(RtnlCodec.GetLink(name), $"get link {name}");

    /// <summary>The link with this index, or null when there is none.</summary>
    public LinkInfo? GetLink(int index) => GetLinkOrNull(RtnlCodec.GetLink(index), $"get link #{index}");

    public LinkInfo GetRequiredLink(string name) =>
        GetLink(name) ?? throw new NetlinkException($"get link {name}", Errnos.ENODEV);

    private LinkInfo? GetLinkOrNull(NetlinkMessageWriter request, string operation)
    {
        LinkInfo? link = null;
        try
        {
            _socket.Request(request, operation, m =>
            {
                if (m.Type == Rtm.NEWLINK) link = RtnlCodec.DecodeLink(m.Payload);
            });
        }
        catch (NetlinkException e) when (e.Errno == Errnos.ENODEV)
        {
            return null;
        }
        return link;
    }

    public LinkInfo CreateVxlan(VxlanSpec spec)
    {
        _socket.Request(RtnlCodec.CreateVxlan(spec),
            () => $"create vxlan {spec.Name} id {spec.Vni} local {spec.Local} dev {DeviceName(spec.UnderlayIndex)} dstport {spec.Port}");
        return GetLink(spec.Name) ?? throw new NetlinkException($"create vxlan {spec.Name} (vanished after creation)", Errnos.ENODEV);
    }

    public void SetLinkUp(int index, bool up = true) =>
        _socket.Request(RtnlCodec.SetLinkUp(index, up), () => $"set link {DeviceName(index)} {(up ? "up" : "down")}");

    public void SetLinkMtu(int index, int mtu) =>
        _socket.Request(RtnlCodec.SetLinkMtu(index, mtu), () => $"set link {DeviceName(index)} mtu {mtu}");

    public void SetLinkMac(int index, MacAddress mac) =>
        _socket.Request(RtnlCodec.SetLinkMac(index, mac), () => $"set link {DeviceName(index)} address {mac}");

    public void DeleteLink(int index) =>
        _socket.Request(RtnlCodec.DeleteLink(index), () => $"delete link {DeviceName(index)}");

    // ---- addresses ----

    /// <summary>IPv4 addresses, of one link when <paramref name="index"/> is given.</summary>
    public IReadOnlyList<AddressInfo> GetAddresses(int? index = null)
    {
        var list = new List<AddressInfo>();
        _socket.Request(RtnlCodec.DumpAddresses(), "list addresses", m =>
        {
            if (m.Type == Rtm.NEWADDR && RtnlCodec.DecodeAddress(m.Payload) is { } a && (index is null || a.Index == index)) list.Add(a);
        });
        return list;
    }

    public void AddAddress(AddressInfo address) =>
        _socket.Request(RtnlCodec.AddAddress(address), () => $"add address {address} dev {DeviceName(address.Index)}");

    public void DeleteAddress(AddressInfo address) =>
        _socket.Request(RtnlCodec.DeleteAddress(address), () => $"delete address {address} dev {DeviceName(address.Index)}");

    // ---- routes ----

    /// <summary>IPv4 routes of one table (main by default), unicast ones only unless <paramref name="allTypes"/>.</summary>
    public IReadOnlyList<RouteInfo> GetRoutes(uint table = Rt.TABLE_MAIN, bool allTypes = false)
    {
        var list = new List<RouteInfo>();
        _socket.Request(RtnlCodec.DumpRoutes(), "list routes", m =>
        {
            if (m.Type == Rtm.NEWROUTE && RtnlCodec.DecodeRoute(m.Payload) is { } r && r.Table == table &&
                (allTypes || r.Type == Rt.TYPE_UNICAST))
                list.Add(r);
        });
        return list;
    }

    public void AddRoute(RouteInfo route) => _socket.Request(RtnlCodec.AddRoute(route), () => "add route " + Describe(route));

    /// <summary>Adds the route or replaces the one with the same destination (and metric) in place.</summary>
    public void ReplaceRoute(RouteInfo route) => _socket.Request(RtnlCodec.ReplaceRoute(route), () => "replace route " + Describe(route));

    public void DeleteRoute(RouteInfo route) => _socket.Request(RtnlCodec.DeleteRoute(route), () => "delete route " + Describe(route));

    // ---- neighbours ----

    public IReadOnlyList<NeighborInfo> GetNeighbors(int? index = null)
    {
        var list = new List<NeighborInfo>();
        _socket.Request(RtnlCodec.DumpNeighbors(Nl.AF_INET), "list neighbours", m =>
        {
            if (m.Type == Rtm.NEWNEIGH && RtnlCodec.DecodeNeighbor(m.Payload) is { } n && (index is null || n.Index == index)) list.Add(n);
        });
        return list;
    }

    /// <summary>Adds or replaces a neighbour entry (permanent unless the record says otherwise).</summary>
    public void SetNeighbor(NeighborInfo neighbor) =>
        _socket.Request(RtnlCodec.SetNeighbor(neighbor),
            () => $"set neighbour {neighbor.Address} lladdr {neighbor.Mac?.ToString() ?? "none"} dev {DeviceName(neighbor.Index)}");

    public void DeleteNeighbor(NeighborInfo neighbor) =>
        _socket.Request(RtnlCodec.DeleteNeighbor(neighbor), () => $"delete neighbour {neighbor.Address} dev {DeviceName(neighbor.Index)}");

    // ---- bridge FDB ----

    public IReadOnlyList<FdbEntry> GetFdb(int? index = null)
    {
        var list = new List<FdbEntry>();
        _socket.Request(RtnlCodec.DumpNeighbors(Nl.AF_BRIDGE), "list fdb", m =>
        {
            if (m.Type == Rtm.NEWNEIGH && RtnlCodec.DecodeFdb(m.Payload) is { } e && (index is null || e.Index == index)) list.Add(e);
        });
        return list;
    }

    public void AddFdb(FdbEntry entry) =>
        _socket.Request(RtnlCodec.AddFdb(entry), () => $"add fdb {entry.Mac} dst {entry.Destination} dev {DeviceName(entry.Index)}");

    public void DeleteFdb(FdbEntry entry) =>
        _socket.Request(RtnlCodec.DeleteFdb(entry), () => $"delete fdb {entry.Mac} dst {entry.Destination} dev {DeviceName(entry.Index)}");

    // ---- descriptions for errors and logs ----

    /// <summary>"10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink", with device names resolved.</summary>
    public string Describe(RouteInfo r) => Describe(r, DeviceName);

    /// <summary>As above with a caller-supplied name lookup (e.g. one link dump for a whole reconcile pass).</summary>
    public static string Describe(RouteInfo r, Func<int, string> deviceName)
    {
        var s = r.Destination.ToString();
        if (r.Gateway is { } gw) s += $" via {gw}";
        if (r.OutIndex is { } oif) s += $" dev {deviceName(oif)}";
        if (r.OnLink) s += " onlink";
        return s;
    }

    /// <summary>The interface's name, or "#index" when it cannot be looked up (used only in messages).</summary>
    public string DeviceName(int index)
    {
        try
        {
            return GetLink(index)?.Name ?? $"#{index}";
        }
        catch (NetlinkException)
        {
            return $"#{index}";
        }
    }

    public void Dispose() => _socket.Dispose();
}
