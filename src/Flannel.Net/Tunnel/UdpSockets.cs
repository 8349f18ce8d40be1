using System.Runtime.InteropServices;
using Flannel.Net.Native;

namespace Flannel.Net.Tunnel;

/// <summary>
/// The tunnel's UDP sockets: one per queue in a SO_REUSEPORT group, raw descriptors (no runtime event loop), big
/// buffers, UDP GSO/GRO probed, and a classic-BPF steering program when there is more than one.
/// </summary>
internal static unsafe class UdpSockets
{
    public static int[] Open(uint localAddress, int port, int count, int bufferBytes, bool offload, out bool gso, out bool gro)
    {
        var fds = new List<int>(count);
        gso = offload;
        gro = offload;
        try
        {
            for (int i = 0; i < count; i++)
            {
                int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
                if (fd < 0) throw LibC.Error("socket(AF_INET, SOCK_DGRAM)", Marshal.GetLastPInvokeError());
                fds.Add(fd);
                if (LibC.SetInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 1) < 0)
                    throw LibC.Error("setsockopt SO_REUSEPORT", Marshal.GetLastPInvokeError());
                if (bufferBytes > 0)
                {
                    // FORCE needs CAP_NET_ADMIN and ignores rmem_max; without it the plain option caps at the sysctl.
                    if (LibC.SetInt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, bufferBytes) < 0)
                        LibC.SetInt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, bufferBytes);
                    if (LibC.SetInt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUFFORCE, bufferBytes) < 0)
                        LibC.SetInt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUF, bufferBytes);
                }
                var sa = SockAddrIn.From(localAddress, port);
                if (LibC.bind(fd, &sa, (uint)sizeof(SockAddrIn)) < 0)
                    throw LibC.Error($"bind {Flannel.Net.Tunnel.PeerTable.ToAddress(localAddress)}:{port}", Marshal.GetLastPInvokeError());
                if (gso && LibC.SetInt(fd, LibC.SOL_UDP, LibC.UDP_SEGMENT, 0) < 0) gso = false;
                if (gro && LibC.SetInt(fd, LibC.SOL_UDP, LibC.UDP_GRO, 1) < 0) gro = false;
            }
            if (!gro)
            {
                foreach (var fd in fds) LibC.SetInt(fd, LibC.SOL_UDP, LibC.UDP_GRO, 0);
            }
            if (count > 1) AttachSteering(fds[0], count);
            return fds.ToArray();
        }
        catch
        {
            foreach (var fd in fds) LibC.close(fd);
            throw;
        }
    }

    /// <summary>
    /// Flannel's outer 4-tuple is always port -> port, so the kernel's reuseport hash puts every flow on one socket.
    /// Hash the inner L4 ports instead (payload offsets 20/22, i.e. an option-less inner IPv4 header), symmetrically so
    /// both directions of a flow meet on the same queue; multiplicative so even-only ephemeral ports still spread.
    /// </summary>
    private static void AttachSteering(int fd, int count)
    {
        const ushort LdH = 0x28, Tax = 0x07, XorX = 0xac, MulK = 0x24, RshK = 0x74, ModK = 0x94, RetA = 0x16;
        var prog = stackalloc SockFilter[]
        {
            new(LdH, 20), new(Tax, 0), new(LdH, 22), new(XorX, 0),
            new(MulK, 0x9E3779B1), new(RshK, 16), new(ModK, (uint)count), new(RetA, 0),
        };
        var fprog = new SockFprog { Len = 8, Filter = prog };
        if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_ATTACH_REUSEPORT_CBPF, &fprog, (uint)sizeof(SockFprog)) < 0)
            throw LibC.Error("setsockopt SO_ATTACH_REUSEPORT_CBPF", Marshal.GetLastPInvokeError());
    }
}
