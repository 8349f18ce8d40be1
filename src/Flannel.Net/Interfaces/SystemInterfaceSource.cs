using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Flannel.Net.Interfaces;

/// <summary>
/// Reads the interfaces of the calling thread's network namespace: getifaddrs (System.Net.NetworkInformation) for links
/// and addresses, SIOCGIFMTU for the MTU, /proc/thread-self/net/route for routes. Nothing here reads /sys, which shows
/// the namespace of whoever mounted it, so it is right under `ip netns exec` and on a thread that called setns(2).
/// </summary>
public sealed unsafe partial class SystemInterfaceSource : IInterfaceSource
{
    public IReadOnlyList<HostInterface> Interfaces()
    {
        var list = new List<HostInterface>();
        foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
        {
            var props = ni.GetIPProperties();
            int index;
            try
            {
                index = props.GetIPv4Properties().Index;
            }
            catch (NetworkInformationException)
            {
                continue; // no IPv4 on this interface at all
            }
            var mtu = MtuOf(ni.Name);
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

    private const ulong SIOCGIFMTU = 0x8921;

    /// <summary>struct ifreq: 16-byte name, then the union whose first int is ifr_mtu.</summary>
    private static int MtuOf(string name)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var ifreq = stackalloc byte[40];
        new Span<byte>(ifreq, 40).Clear();
        var nameBytes = System.Text.Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length > 15) return 0;
        nameBytes.CopyTo(new Span<byte>(ifreq, 16));
        return Ioctl((int)s.Handle, SIOCGIFMTU, ifreq) == 0 ? *(int*)(ifreq + 16) : 0;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, ulong request, byte* arg);
}
