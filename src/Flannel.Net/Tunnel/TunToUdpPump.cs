using System.Runtime.InteropServices;
using Flannel.Net.Native;
using Flannel.Net.Packets;

namespace Flannel.Net.Tunnel;

/// <summary>
/// One TUN queue -> UDP: reads inner IPv4 packets (TSO super-packets with offload), routes them to the owning peer,
/// decrements the TTL, splits super-packets into MTU-sized packets, and sends the batch with one sendmmsg (UDP GSO
/// messages when the kernel allows). Unknown destinations get an ICMP net-unreachable written back to the TUN.
/// </summary>
internal sealed unsafe class TunToUdpPump : Pump
{
    private const int ReadBufferSize = 65536;

    private readonly int _tunFd;
    private readonly int _udpFd;
    private readonly bool _vnet;
    private readonly TunnelState _state;
    private readonly UdpSendBatch _batch;

    private readonly byte* _readBuf;          // offload: one TUN read (virtio header + up to 64 KB)
    private readonly byte* _icmp;             // virtio header + ICMP reply

    public TunToUdpPump(int tunFd, int udpFd, bool vnet, bool gso, TunnelState state)
    {
        _tunFd = tunFd;
        _udpFd = udpFd;
        _vnet = vnet;
        _state = state;
        // Plain: one MTU per message at most. Offload: room for several segmented 64 KB packets.
        _batch = new UdpSendBatch(vnet ? 1 << 20 : UdpSendBatch.MaxMessages * state.Mtu, gso);
        _readBuf = vnet ? (byte*)Alloc(VirtioNetHdr.Size + ReadBufferSize) : null;
        _icmp = (byte*)Alloc(VirtioNetHdr.Size + IcmpUnreachable.MaxLength);
    }

    public override bool DrainBatch()
    {
        bool any = false;
        int mtu = _state.Mtu;
        _batch.Clear();
        Drained = false;
        while (true)
        {
            // Room for the worst case of one more read: a 64 KB super-packet split into MTU-sized datagrams.
            if (_vnet)
            {
                if (_batch.FreeMessages < UdpSendBatch.MaxGsoSegments || _batch.Room < 2 * ReadBufferSize) break;
            }
            else if (_batch.FreeMessages == 0 || _batch.Room < mtu) break;

            nint n = _vnet
                ? LibC.read(_tunFd, _readBuf, (nuint)(VirtioNetHdr.Size + ReadBufferSize))
                : LibC.read(_tunFd, _batch.Tail, (nuint)mtu);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                if (errno == LibC.EAGAIN) { Drained = true; break; }
                if (errno == LibC.EBADF) return false;
                throw LibC.Error("read TUN", errno);
            }
            any = true;
            if (_vnet) HandleOffloadRead((int)n);
            else HandlePlainRead((int)n);
        }
        if (_batch.Count > 0) Send();
        return any;
    }

    private void HandlePlainRead(int n)
    {
        var packet = new Span<byte>(_batch.Tail, n);
        if (!Route(packet, out int total, out var route)) return;
        _batch.AddPacket(route!, total);
    }

    private void HandleOffloadRead(int n)
    {
        if (n < VirtioNetHdr.Size) { Counters.Drop(DropReason.Truncated); return; }
        var hdr = *(VirtioNetHdr*)_readBuf;
        var packet = new Span<byte>(_readBuf + VirtioNetHdr.Size, n - VirtioNetHdr.Size);
        int gsoType = hdr.GsoType & ~VirtioNetHdr.GsoEcn;
        if (gsoType == VirtioNetHdr.GsoNone)
        {
            if ((hdr.Flags & VirtioNetHdr.FlagNeedsCsum) != 0 &&
                !TcpSegmenter.CompleteChecksum(packet, hdr.CsumStart, hdr.CsumOffset))
            {
                Counters.Drop(DropReason.Malformed);
                return;
            }
            if (!Route(packet, out int total, out var route)) return;
            packet[..total].CopyTo(new Span<byte>(_batch.Tail, total));
            _batch.AddPacket(route!, total);
            return;
        }
        if (gsoType != VirtioNetHdr.GsoTcpV4)
        {
            Counters.Drop(packet.Length > 0 && Ipv4.Version(packet) != 4 ? DropReason.NotIpv4 : DropReason.Malformed);
            return;
        }
        var err = TcpSegmenter.Check(packet, out int ipHeader, out int tcpHeader);
        if (err != PacketError.None) { Counters.Drop(ToReason(err)); return; }
        if (!Route(packet, out int superTotal, out var peer)) return;
        var super = packet[..superTotal];
        int headers = ipHeader + tcpHeader;
        int mss = Math.Min(hdr.GsoSize == 0 ? int.MaxValue : hdr.GsoSize, _state.Mtu - headers);
        if (mss <= 0) { Counters.Drop(DropReason.Malformed); return; }
        int need = TcpSegmenter.OutputSize(superTotal, headers, mss);
        int segments = TcpSegmenter.Segment(super, ipHeader, tcpHeader, mss, new Span<byte>(_batch.Tail, need), out int segSize);
        _batch.AddSegments(peer!, need, segSize, segments);
    }

    /// <summary>Validates, finds the peer, answers unknown destinations, decrements the TTL.</summary>
    private bool Route(Span<byte> packet, out int total, out PeerRoute? route)
    {
        route = null;
        var err = Ipv4.Validate(packet, out total);
        if (err != PacketError.None) { Counters.Drop(ToReason(err)); return false; }
        route = _state.Table.Lookup(Ipv4.Destination(packet));
        if (route is null)
        {
            Counters.Drop(DropReason.NoRoute);
            SendUnreachable(packet[..total]);
            return false;
        }
        if (!Ipv4.DecrementTtl(packet)) { Counters.Drop(DropReason.TtlExpired); return false; }
        return true;
    }

    private void Send()
    {
        int count = _batch.Count;
        var msgs = _batch.Messages;
        int i = 0;
        while (i < count)
        {
            int sent = LibC.sendmmsg(_udpFd, msgs + i, (uint)(count - i), 0);
            if (sent < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                if (errno == LibC.EBADF) return;
                // The first message failed. A GSO message refused for its size (path MTU below the segment size) turns
                // GSO off for this queue and goes out again one datagram per message, so nothing is lost to it.
                if (errno == LibC.EINVAL && _batch.Segments(i) > 1 && _batch.Gso)
                {
                    _batch.Gso = false;
                    SendSeparately(i);
                }
                else Counters.Drop(DropReason.SendFailed, _batch.Segments(i));
                i++;
                continue;
            }
            for (int k = i; k < i + sent; k++) Account(_batch.Route(k), _batch.Segments(k), _batch.Bytes(k));
            i += sent;
        }
    }

    /// <summary>Sends the datagrams of GSO message <paramref name="i"/> one by one (after the kernel refused GSO).</summary>
    private void SendSeparately(int i)
    {
        byte* data = _batch.Data(i);
        long left = _batch.Bytes(i);
        int size = _batch.SegmentSize(i);
        var route = _batch.Route(i);
        var name = route.Address;
        while (left > 0)
        {
            int len = (int)Math.Min(size, left);
            if (LibC.sendto(_udpFd, data, (nuint)len, 0, &name, (uint)sizeof(SockAddrIn)) < 0) Counters.Drop(DropReason.SendFailed);
            else Account(route, 1, len);
            data += len;
            left -= len;
        }
    }

    private void Account(PeerRoute route, int packets, long bytes)
    {
        Counters.Packets += packets;
        Counters.Bytes += bytes;
        route.Stats.AddTx(packets, bytes);
    }

    private void SendUnreachable(ReadOnlySpan<byte> offender)
    {
        if (_state.TunAddress == 0 || !IcmpUnreachable.ShouldSend(offender)) return;
        int hdr = _vnet ? VirtioNetHdr.Size : 0;
        if (_vnet) *(VirtioNetHdr*)_icmp = default;
        int len = IcmpUnreachable.Write(new Span<byte>(_icmp + hdr, IcmpUnreachable.MaxLength), offender, _state.TunAddress);
        LibC.write(_tunFd, _icmp, (nuint)(hdr + len));
    }

    public override void ReleaseBuffers()
    {
        base.ReleaseBuffers();
        _batch.ReleaseArena();
    }

    public override void Dispose()
    {
        _batch.Dispose();
        base.Dispose();
    }

    internal static DropReason ToReason(PacketError e) => e switch
    {
        PacketError.Truncated => DropReason.Truncated,
        PacketError.NotIpv4 => DropReason.NotIpv4,
        _ => DropReason.Malformed,
    };
}
