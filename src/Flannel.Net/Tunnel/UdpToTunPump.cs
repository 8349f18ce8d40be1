using System.Runtime.InteropServices;
using Flannel.Net.Native;
using Flannel.Net.Packets;

namespace Flannel.Net.Tunnel;

/// <summary>
/// One UDP socket -> TUN: receives a batch with recvmmsg (UDP GRO super-datagrams with offload), drops strangers and
/// bad packets, decrements the TTL and writes the inner packets to the TUN; with offload, consecutive TCP segments or
/// UDP datagrams of a flow are coalesced into one GSO super-packet written with writev.
/// </summary>
internal sealed unsafe class UdpToTunPump : Pump, ITunWriter
{
    private const int CmsgSpace = 64;

    private readonly int _udpFd;
    private readonly int _tunFd;
    private readonly bool _vnet;
    private readonly TunnelState _state;
    private readonly int _messages;
    private readonly int _bufferSize;

    private readonly byte* _buffers;
    private readonly MMsgHdr* _msgs;
    private readonly IoVec* _iovs;
    private readonly SockAddrIn* _names;
    private readonly byte* _cmsgs;
    private readonly IoVec* _writeIov;
    private readonly VirtioNetHdr* _plainHdr;
    private readonly TunWriteCoalescer? _coalescer;

    public UdpToTunPump(int udpFd, int tunFd, bool vnet, bool gro, TunnelState state)
    {
        _udpFd = udpFd;
        _tunFd = tunFd;
        _vnet = vnet;
        _state = state;
        _messages = gro ? 32 : 64;
        _bufferSize = gro ? 65536 : (state.Mtu + 63) & ~63;
        _buffers = (byte*)Alloc(_messages * _bufferSize);
        _msgs = (MMsgHdr*)Alloc(sizeof(MMsgHdr) * _messages);
        _iovs = (IoVec*)Alloc(sizeof(IoVec) * _messages);
        _names = (SockAddrIn*)Alloc(sizeof(SockAddrIn) * _messages);
        _cmsgs = (byte*)Alloc(CmsgSpace * _messages);
        _writeIov = (IoVec*)Alloc(sizeof(IoVec) * 2);
        _plainHdr = (VirtioNetHdr*)Alloc(sizeof(VirtioNetHdr));
        if (vnet) _coalescer = new TunWriteCoalescer(this);
        for (int i = 0; i < _messages; i++)
        {
            _iovs[i] = new IoVec(_buffers + (long)i * _bufferSize, _bufferSize);
            _msgs[i].Hdr.Iov = &_iovs[i];
            _msgs[i].Hdr.IovLen = 1;
            _msgs[i].Hdr.Name = &_names[i];
        }
    }

    public override bool DrainBatch()
    {
        for (int i = 0; i < _messages; i++)
        {
            ref var h = ref _msgs[i].Hdr;
            h.NameLen = (uint)sizeof(SockAddrIn);
            h.Control = _cmsgs + i * CmsgSpace;
            h.ControlLen = CmsgSpace;
            h.Flags = 0;
        }
        int n;
        while (true)
        {
            n = LibC.recvmmsg(_udpFd, _msgs, (uint)_messages, LibC.MSG_DONTWAIT, null);
            if (n >= 0) break;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR) continue;
            if (errno == LibC.EAGAIN || errno == LibC.EBADF) return false;
            throw LibC.Error("recvmmsg", errno);
        }
        var table = _state.Table;
        var local = _state.Local;
        for (int i = 0; i < n; i++) HandleDatagram(table, local, i);
        _coalescer?.Flush();
        Drained = n < _messages;   // MSG_DONTWAIT: a short batch means the socket was empty
        return n > 0;
    }

    private const int MSG_TRUNC = 0x20;

    private void HandleDatagram(PeerTable table, LocalSubnet? local, int i)
    {
        ref var h = ref _msgs[i].Hdr;
        int len = (int)_msgs[i].Len;
        byte* data = _buffers + (long)i * _bufferSize;
        int segSize = GroSegmentSize(ref h, len);
        int segments = (len + segSize - 1) / Math.Max(segSize, 1);
        if ((h.Flags & MSG_TRUNC) != 0) { Counters.Drop(DropReason.Truncated, Math.Max(segments, 1)); return; }
        var peer = table.LookupPeer(_names[i].AddrHostOrder);
        if (peer is null) { Counters.Drop(DropReason.Stranger, Math.Max(segments, 1)); return; }
        if (len == 0) { Counters.Drop(DropReason.Truncated); return; }
        long packets = 0, bytes = 0;
        for (int off = 0; off < len; off += segSize)
        {
            int size = Math.Min(segSize, len - off);
            var packet = new Span<byte>(data + off, size);
            var err = Ipv4.Validate(packet, out int total);
            if (err != PacketError.None) { Counters.Drop(TunToUdpPump.ToReason(err)); continue; }
            if (_state.CheckInnerAddresses &&
                !InnerAddressCheck.Accept(Ipv4.Source(packet), Ipv4.Destination(packet), local, peer, table, out var refused))
            {
                Counters.Drop(refused);
                continue;
            }
            if (!Ipv4.DecrementTtl(packet)) { Counters.Drop(DropReason.TtlExpired); continue; }
            packets++;
            bytes += total;
            if (_coalescer is not null) _coalescer.Add(data + off, total);
            else WritePlain(data + off, total);
        }
        if (packets > 0) peer.Stats.AddRx(packets, bytes);
    }

    /// <summary>The UDP_GRO segment size from the control messages, or the whole length.</summary>
    private static int GroSegmentSize(ref MsgHdr h, int len)
    {
        byte* c = (byte*)h.Control;
        byte* end = c + (long)h.ControlLen;
        while (c + sizeof(CmsgHdr) <= end)
        {
            var cm = (CmsgHdr*)c;
            if (cm->Len < (nuint)sizeof(CmsgHdr)) break;
            if (cm->Level == LibC.SOL_UDP && cm->Type == LibC.UDP_GRO && cm->Len >= (nuint)(sizeof(CmsgHdr) + 2))
            {
                int s = *(ushort*)(c + sizeof(CmsgHdr));
                if (s > 0) return s;
            }
            c += ((long)cm->Len + 7) & ~7L;
        }
        return Math.Max(len, 1);
    }

    private void WritePlain(byte* packet, int length)
    {
        nint r = LibC.write(_tunFd, packet, (nuint)length);
        Account(r, 1, length);
    }

    /// <summary>Writes one packet or GSO super-packet: virtio header + pieces (with offload only).</summary>
    public bool Write(in VirtioNetHdr hdr, IoVec* pieces, int count, int packets, int bytes)
    {
        *_plainHdr = hdr;
        pieces[0] = new IoVec(_plainHdr, VirtioNetHdr.Size);
        nint r = LibC.writev(_tunFd, pieces, count);
        if (r < 0 && hdr.GsoType == VirtioNetHdr.GsoUdpL4 && Marshal.GetLastPInvokeError() == LibC.EINVAL)
        {
            // A kernel without UDP_L4 in virtio_net_hdr: the coalescer writes these datagrams (and all later ones) singly.
            Counters.UdpGsoRefused++;
            return false;
        }
        Account(r, packets, bytes);
        if (r >= 0)
        {
            if (hdr.GsoType == VirtioNetHdr.GsoTcpV4) { Counters.TcpSuperPackets++; Counters.TcpCoalescedSegments += packets; }
            else if (hdr.GsoType == VirtioNetHdr.GsoUdpL4) { Counters.UdpSuperPackets++; Counters.UdpCoalescedSegments += packets; }
        }
        return true;
    }

    public override void Dispose()
    {
        _coalescer?.Dispose();
        base.Dispose();
    }

    private void Account(nint result, int packets, int bytes)
    {
        if (result < 0)
        {
            Counters.Drop(DropReason.TunWriteFailed, packets);
            return;
        }
        Counters.Packets += packets;
        Counters.Bytes += bytes;
    }
}
