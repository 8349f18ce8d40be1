using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Flannel.Net.Interfaces;

/// <summary>
/// Reads the interfaces of the calling process's network namespace (getifaddrs/netlink under System.Net.NetworkInformation,
/// /sys for the MTU, /proc/net/route for routes). Inside `ip netns exec`, /sys and /proc/net belong to that namespace.
/// </summary>
public sealed class SystemInterfaceSource : IInterfaceSource
{
    public IReadOnlyList<HostInterface> Interfaces()
    {
        var list = new List<HostInterface>();
        foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
        {
            var props = ni.GetIPProperties();
            int index, mtu;
            try
            {
                var v4 = props.GetIPv4Properties();
                index = v4.Index;
                mtu = v4.Mtu;
            }
            catch (NetworkInformationException)
            {
                continue; // no IPv4 on this interface at all
            }
            var addrs = props.UnicastAddresses
                .Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork)
                .Select(a => (a.Address, a.PrefixLength))
                .ToList();
            list.Add(new HostInterface(ni.Name, index, mtu, ni.GetPhysicalAddress(), addrs));
        }
        return list.OrderBy(i => i.Index).ToList();
    }

    public IReadOnlyList<RouteEntry> Routes() => ProcNetRoute.Read();

    /// <summary>A connected UDP socket sends nothing but makes the kernel do the full route lookup (policy rules included).</summary>
    public IPAddress? SourceAddressFor(IPAddress destination)
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Connect(new IPEndPoint(destination, 9));
            return (s.LocalEndPoint as IPEndPoint)?.Address;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
