using System.Runtime.InteropServices;

namespace Flannel.Net.Packets;

/// <summary>struct virtio_net_hdr (10 bytes, little-endian): precedes every TUN read and write with IFF_VNET_HDR.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VirtioNetHdr
{
    public const int Size = 10;
    public const byte FlagNeedsCsum = 1, FlagDataValid = 2;
    public const byte GsoNone = 0, GsoTcpV4 = 1, GsoUdp = 3, GsoTcpV6 = 4, GsoUdpL4 = 5, GsoEcn = 0x80;

    public byte Flags;
    public byte GsoType;
    public ushort HdrLen;
    public ushort GsoSize;
    public ushort CsumStart;
    public ushort CsumOffset;

    static VirtioNetHdr()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("virtio_net_hdr handling assumes a little-endian host");
    }
}
