using System.Runtime.InteropServices;
using Flannel.Net.Native;

namespace Flannel.Net.Tun;

/// <summary>
/// A layer-3 TUN device opened through /dev/net/tun: one file descriptor per queue (IFF_MULTI_QUEUE when more than one),
/// optionally with a virtio_net_hdr in front of every packet (IFF_VNET_HDR) so the kernel can hand over TSO
/// super-packets. The device is not persistent: it disappears when the last descriptor is closed.
/// Addresses, MTU and routes are the caller's business (netlink).
/// </summary>
public sealed unsafe class TunDevice : IDisposable
{
    public const nuint TUNSETIFF = 0x400454ca;
    public const nuint TUNSETOFFLOAD = 0x400454d0;
    public const nuint SIOCSIFTXQLEN = 0x8943;
    public const short IFF_TUN = 0x0001, IFF_NO_PI = 0x1000, IFF_VNET_HDR = 0x4000, IFF_MULTI_QUEUE = 0x0100;
    public const uint TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02, TUN_F_TSO6 = 0x04;

    private readonly int[] _fds;

    public string Name { get; }

    /// <summary>True when every read and write carries a 10-byte virtio_net_hdr and TSO/checksum offload is on.</summary>
    public bool Offload { get; }

    public IReadOnlyList<int> QueueFds => _fds;

    private TunDevice(string name, int[] fds, bool offload)
    {
        Name = name;
        _fds = fds;
        Offload = offload;
    }

    /// <summary>
    /// Creates (or attaches to) the TUN device <paramref name="name"/> with <paramref name="queues"/> queues. With
    /// <paramref name="offload"/> it asks for IFF_VNET_HDR and TSO; when the kernel refuses, it reopens the plain device.
    /// </summary>
    public static TunDevice Open(string name, int queues, bool offload)
    {
        if (queues < 1) throw new ArgumentOutOfRangeException(nameof(queues), queues, "queues must be >= 1");
        if (offload)
        {
            try
            {
                var fds = OpenQueues(name, queues, vnetHdr: true);
                bool ok = true;
                foreach (var fd in fds)
                {
                    if (LibC.ioctl_value(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) { ok = false; break; }
                }
                if (ok) return new TunDevice(name, fds, true);
                foreach (var fd in fds) LibC.close(fd);
            }
            catch (IOException)
            {
                // IFF_VNET_HDR refused: fall back to the plain device below.
            }
        }
        return new TunDevice(name, OpenQueues(name, queues, vnetHdr: false), false);
    }

    private static int[] OpenQueues(string name, int queues, bool vnetHdr)
    {
        var fds = new List<int>(queues);
        try
        {
            for (int q = 0; q < queues; q++)
            {
                int fd;
                fixed (byte* path = "/dev/net/tun\0"u8) fd = LibC.open(path, LibC.O_RDWR | LibC.O_CLOEXEC | LibC.O_NONBLOCK);
                if (fd < 0) throw LibC.Error("open /dev/net/tun", Marshal.GetLastPInvokeError());
                fds.Add(fd);
                var req = IfReq.For(name);
                req.Flags = (short)(IFF_TUN | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0) | (queues > 1 ? IFF_MULTI_QUEUE : 0));
                if (LibC.ioctl(fd, TUNSETIFF, &req) < 0)
                    throw LibC.Error($"TUNSETIFF {name} (queue {q})", Marshal.GetLastPInvokeError());
            }
            return fds.ToArray();
        }
        catch
        {
            foreach (var fd in fds) LibC.close(fd);
            throw;
        }
    }

    /// <summary>
    /// Sets the device's transmit queue length (SIOCSIFTXQLEN on a plain socket). The TUN drops silently when its ring
    /// is full, so the default 500 costs TCP retransmits at speed.
    /// </summary>
    public static void SetTxQueueLength(string name, int length)
    {
        int s = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (s < 0) throw LibC.Error("socket", Marshal.GetLastPInvokeError());
        try
        {
            var req = IfReq.For(name);
            req.Value = length;
            if (LibC.ioctl(s, SIOCSIFTXQLEN, &req) < 0)
                throw LibC.Error($"SIOCSIFTXQLEN {name}={length}", Marshal.GetLastPInvokeError());
        }
        finally
        {
            LibC.close(s);
        }
    }

    /// <summary>
    /// Sets accept_local on the device: the tunnel's ICMP net-unreachable replies come from the TUN's own address, and
    /// without it the kernel drops a packet arriving with a local source. Best effort (the reply is an optimisation).
    /// </summary>
    public static bool AcceptLocalSource(string name)
    {
        try
        {
            File.WriteAllText($"/proc/sys/net/ipv4/conf/{name}/accept_local", "1");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        for (int i = 0; i < _fds.Length; i++)
        {
            if (_fds[i] >= 0) LibC.close(_fds[i]);
            _fds[i] = -1;
        }
    }
}
