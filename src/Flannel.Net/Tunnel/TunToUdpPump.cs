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
    private const int MaxMessages = 256;
    private const int MaxGsoSegments = 64;
    private const int MaxGsoBytes = 65507;
    private const int ReadBufferSize = 65536;
    private const int CmsgSpace = 24;

    private readonly int _tunFd;
    private readonly int _udpFd;
    private readonly bool _vnet;
    private bool _gso;
    private readonly TunnelState _state;
    private readonly int _arenaSize;

    private readonly byte* _arena;
    private readonly byte* _readBuf;          // offload: one TUN read (virtio header + up to 64 KB)
    private readonly byte* _icmp;             // virtio header + ICMP reply
    private readonly MMsgHdr* _msgs;
    private readonly IoVec* _iovs;
    private readonly SockAddrIn* _names;
    private readonly byte* _cmsgs;
    private readonly PeerStats?[] _msgPeers = new PeerStats?[MaxMessages];
    private readonly int[] _msgSegments = new int[MaxMessages];

    public TunToUdpPump(int tunFd, int udpFd, bool vnet, bool gso, TunnelState state)
    {
        _tunFd = tunFd;
        _udpFd = udpFd;
        _vnet = vnet;
        _gso = gso;
        _state = state;
        // Plain: one slot per packet. Offload: room for several segmented 64 KB packets.
        _arenaSize = vnet ? 1 << 20 : MaxMessages * Align(state.Mtu);
        _arena = (byte*)Alloc(_arenaSize);
        _readBuf = vnet ? (byte*)Alloc(VirtioNetHdr.Size + ReadBufferSize) : null;
        _icmp = (byte*)Alloc(VirtioNetHdr.Size + IcmpUnreachable.MaxLength);
        _msgs = (MMsgHdr*)Alloc(sizeof(MMsgHdr) * MaxMessages);
        _iovs = (IoVec*)Alloc(sizeof(IoVec) * MaxMessages);
        _names = (SockAddrIn*)Alloc(sizeof(SockAddrIn) * MaxMessages);
        _cmsgs = (byte*)Alloc(CmsgSpace * MaxMessages);
    }

    private static int Align(int n) => (n + 63) & ~63;

    public override bool DrainBatch()
    {
        bool any = false;
        int count = 0;
        int off = 0;
        int mtu = _state.Mtu;
        while (true)
        {
            if (_vnet)
            {
                if (count + MaxGsoSegments > MaxMessages || off + 2 * ReadBufferSize > _arenaSize) break;
            }
            else if (count == MaxMessages) break;

            nint n = _vnet
                ? LibC.read(_tunFd, _readBuf, (nuint)(VirtioNetHdr.Size + ReadBufferSize))
                : LibC.read(_tunFd, _arena + off, (nuint)Align(mtu));
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                if (errno == LibC.EAGAIN) break;
                if (errno == LibC.EBADF) return false;
                throw LibC.Error("read TUN", errno);
            }
            any = true;
            if (_vnet) HandleOffloadRead((int)n, ref count, ref off);
            else HandlePlainRead((int)n, ref count, ref off);
        }
        if (count > 0) Send(count);
        return any;
    }

    private void HandlePlainRead(int n, ref int count, ref int off)
    {
        var packet = new Span<byte>(_arena + off, n);
        if (!Route(packet, out int total, out var route)) return;
        AddMessage(ref count, route!, _arena + off, total, total, 1);
        off += Align(total);
    }

    private void HandleOffloadRead(int n, ref int count, ref int off)
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
            packet[..total].CopyTo(new Span<byte>(_arena + off, total));
            AddMessage(ref count, route!, _arena + off, total, total, 1);
            off += Align(total);
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
        var output = new Span<byte>(_arena + off, need);
        int segments = TcpSegmenter.Segment(super, ipHeader, tcpHeader, mss, output, out int segSize);
        int perMessage = _gso ? Math.Min(MaxGsoSegments, MaxGsoBytes / segSize) : 1;
        byte* p = _arena + off;
        int remaining = need;
        for (int s = 0; s < segments; s += perMessage)
        {
            int inMsg = Math.Min(perMessage, segments - s);
            int bytes = Math.Min(remaining, inMsg * segSize);
            AddMessage(ref count, peer!, p, bytes, segSize, inMsg);
            p += bytes;
            remaining -= bytes;
        }
        off += Align(need);
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

    private void AddMessage(ref int count, PeerRoute route, byte* data, int bytes, int segSize, int segments)
    {
        int i = count++;
        _names[i] = route.Address;
        _iovs[i] = new IoVec(data, bytes);
        ref var h = ref _msgs[i].Hdr;
        h.Name = &_names[i];
        h.NameLen = (uint)sizeof(SockAddrIn);
        h.Iov = &_iovs[i];
        h.IovLen = 1;
        h.Flags = 0;
        if (segments > 1)
        {
            var c = (CmsgHdr*)(_cmsgs + i * CmsgSpace);
            c->Len = 18;
            c->Level = LibC.SOL_UDP;
            c->Type = LibC.UDP_SEGMENT;
            *(ushort*)((byte*)c + 16) = (ushort)segSize;
            h.Control = c;
            h.ControlLen = CmsgSpace;
        }
        else
        {
            h.Control = null;
            h.ControlLen = 0;
        }
        _msgPeers[i] = route.Stats;
        _msgSegments[i] = segments;
    }

    private void Send(int count)
    {
        int i = 0;
        while (i < count)
        {
            int sent = LibC.sendmmsg(_udpFd, _msgs + i, (uint)(count - i), 0);
            if (sent < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                if (errno == LibC.EBADF) return;
                // The first message failed: count it and carry on with the rest. A GSO message refused for its size
                // (path MTU below the segment size) turns GSO off for this queue.
                if (errno == LibC.EINVAL && _msgSegments[i] > 1) _gso = false;
                Counters.Drop(DropReason.SendFailed, _msgSegments[i]);
                i++;
                continue;
            }
            for (int k = i; k < i + sent; k++)
            {
                long bytes = (long)_iovs[k].Length;
                Counters.Packets += _msgSegments[k];
                Counters.Bytes += bytes;
                _msgPeers[k]!.AddTx(_msgSegments[k], bytes);
                _msgPeers[k] = null;
            }
            i += sent;
        }
    }

    private void SendUnreachable(ReadOnlySpan<byte> offender)
    {
        if (_state.TunAddress == 0 || !IcmpUnreachable.ShouldSend(offender)) return;
        int hdr = _vnet ? VirtioNetHdr.Size : 0;
        if (_vnet) *(VirtioNetHdr*)_icmp = default;
        int len = IcmpUnreachable.Write(new Span<byte>(_icmp + hdr, IcmpUnreachable.MaxLength), offender, _state.TunAddress);
        LibC.write(_tunFd, _icmp, (nuint)(hdr + len));
    }

    internal static DropReason ToReason(PacketError e) => e switch
    {
        PacketError.Truncated => DropReason.Truncated,
        PacketError.NotIpv4 => DropReason.NotIpv4,
        _ => DropReason.Malformed,
    };
}
