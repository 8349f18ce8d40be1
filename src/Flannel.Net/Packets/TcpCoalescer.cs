using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Flannel.Net.Native;

namespace Flannel.Net.Packets;

/// <summary>
/// Coalesces consecutive TCP/IPv4 segments of a flow (within one receive batch) into a TSO super-packet, so the
/// receiving TCP stack handles 64 KB packets instead of 1.4 KB ones. Mirrors the kernel's GRO rules: option-less IP
/// header, no fragments, same addresses/ports/TOS/TTL/DF/ack, identical TCP header length and options, contiguous
/// sequence numbers, ACK only (PSH/FIN allowed on the last), every segment but the last exactly MSS, at most 64 KB.
/// Segments with a wrong checksum are passed through untouched for the kernel to drop. Packets stay in the caller's
/// buffers until <see cref="Flush"/>; the head is patched in place.
/// </summary>
public sealed unsafe class TcpCoalescer : IDisposable
{
    public const int MaxFlows = 8;
    public const int MaxSegments = 64;
    private const int IpHeader = 20;

    private struct Flow
    {
        public bool Active;
        public bool Closed;
        public long Order;
        public byte* Head;
        public int HeadLength;
        public int TcpHeader;
        public int Mss;
        public uint Source, Destination, Ports, Ack, NextSeq;
        public int Total;          // IP total length of the super-packet
        public int InnerBytes;     // sum of the original packets' lengths
        public int Count;
        public byte LastFlags;
    }

    private readonly ITunWriter _writer;
    private readonly Flow[] _flows = new Flow[MaxFlows];
    private readonly IoVec* _iov;
    private readonly IoVec* _single;
    private long _order;

    public TcpCoalescer(ITunWriter writer)
    {
        _writer = writer;
        _iov = (IoVec*)NativeMemory.AllocZeroed((nuint)(sizeof(IoVec) * MaxFlows * (MaxSegments + 1)));
        _single = (IoVec*)NativeMemory.AllocZeroed((nuint)(sizeof(IoVec) * 2));
    }

    /// <summary>Adds a validated IPv4 packet of <paramref name="length"/> bytes (its total length).</summary>
    public void Add(byte* packet, int length)
    {
        var p = new ReadOnlySpan<byte>(packet, length);
        if (!IsTcpCandidate(p, out int tcpHeader, out int payload, out byte flags))
        {
            if (IsPlainTcp(p)) FlushFlow(FindFlow(Ipv4.Source(p), Ipv4.Destination(p), BinaryPrimitives.ReadUInt32BigEndian(p[IpHeader..])));
            WriteSingle(packet, length, dataValid: false);
            return;
        }
        uint src = Ipv4.Source(p), dst = Ipv4.Destination(p), ports = BinaryPrimitives.ReadUInt32BigEndian(p[IpHeader..]);
        int f = FindFlow(src, dst, ports);
        if (f >= 0)
        {
            ref var flow = ref _flows[f];
            if (CanAppend(ref flow, p, tcpHeader, payload))
            {
                Append(f, packet, length, tcpHeader, payload, flags);
                if ((flags & (Tcp.Psh | Tcp.Fin)) != 0 || payload < flow.Mss) FlushFlow(f);
                return;
            }
            FlushFlow(f);
        }
        if ((flags & (Tcp.Psh | Tcp.Fin)) != 0)
        {
            WriteSingle(packet, length, dataValid: true);
            return;
        }
        Start(FreeSlot(), packet, length, src, dst, ports, tcpHeader, payload);
    }

    /// <summary>Writes every pending flow (end of a receive batch: the buffers are about to be reused).</summary>
    public void Flush()
    {
        while (true)
        {
            int oldest = -1;
            for (int i = 0; i < MaxFlows; i++)
                if (_flows[i].Active && (oldest < 0 || _flows[i].Order < _flows[oldest].Order)) oldest = i;
            if (oldest < 0) return;
            FlushFlow(oldest);
        }
    }

    /// <summary>
    /// Writes the pending flows between <paramref name="src"/> and <paramref name="dst"/>, oldest first, so that a
    /// packet of that address pair written by someone else next does not overtake them.
    /// </summary>
    public void FlushAddresses(uint src, uint dst)
    {
        while (true)
        {
            int oldest = -1;
            for (int i = 0; i < MaxFlows; i++)
            {
                ref var f = ref _flows[i];
                if (f.Active && f.Source == src && f.Destination == dst && (oldest < 0 || f.Order < _flows[oldest].Order)) oldest = i;
            }
            if (oldest < 0) return;
            FlushFlow(oldest);
        }
    }

    private static bool IsPlainTcp(ReadOnlySpan<byte> p) =>
        p.Length >= IpHeader + Tcp.MinHeader && p[0] == 0x45 && Ipv4.Protocol(p) == Ipv4.ProtoTcp && !Ipv4.IsFragment(p);

    private static bool IsTcpCandidate(ReadOnlySpan<byte> p, out int tcpHeader, out int payload, out byte flags)
    {
        tcpHeader = payload = 0;
        flags = 0;
        if (!IsPlainTcp(p)) return false;
        var t = p[IpHeader..];
        tcpHeader = Tcp.HeaderLength(t);
        if (tcpHeader < Tcp.MinHeader || IpHeader + tcpHeader > p.Length) return false;
        payload = p.Length - IpHeader - tcpHeader;
        flags = Tcp.Flags(t);
        if (payload == 0 || (flags & Tcp.Ack) == 0 || (flags & ~(Tcp.Ack | Tcp.Psh | Tcp.Fin)) != 0) return false;
        return Tcp.ChecksumValid(p);
    }

    private int FindFlow(uint src, uint dst, uint ports)
    {
        for (int i = 0; i < MaxFlows; i++)
        {
            ref var f = ref _flows[i];
            if (f.Active && f.Source == src && f.Destination == dst && f.Ports == ports) return i;
        }
        return -1;
    }

    private int FreeSlot()
    {
        int oldest = 0;
        for (int i = 0; i < MaxFlows; i++)
        {
            if (!_flows[i].Active) return i;
            if (_flows[i].Order < _flows[oldest].Order) oldest = i;
        }
        FlushFlow(oldest);
        return oldest;
    }

    private void Start(int slot, byte* packet, int length, uint src, uint dst, uint ports, int tcpHeader, int payload)
    {
        ref var f = ref _flows[slot];
        f.Active = true;
        f.Closed = false;
        f.Order = ++_order;
        f.Head = packet;
        f.HeadLength = length;
        f.TcpHeader = tcpHeader;
        f.Mss = payload;
        f.Source = src;
        f.Destination = dst;
        f.Ports = ports;
        var t = new ReadOnlySpan<byte>(packet + IpHeader, tcpHeader);
        f.Ack = Tcp.AckNumber(t);
        f.NextSeq = Tcp.Sequence(t) + (uint)payload;
        f.Total = length;
        f.InnerBytes = length;
        f.Count = 1;
        f.LastFlags = 0;
        var iov = _iov + slot * (MaxSegments + 1);
        iov[1] = new IoVec(packet, length);
    }

    private static bool CanAppend(ref Flow f, ReadOnlySpan<byte> p, int tcpHeader, int payload)
    {
        if (f.Closed || f.Count >= MaxSegments || payload > f.Mss || f.Total + payload > 65535) return false;
        var head = new ReadOnlySpan<byte>(f.Head, IpHeader + f.TcpHeader);
        // TOS, DF/fragment field and TTL must match: the super-packet carries the head's.
        if (p[1] != head[1] || p[6] != head[6] || p[7] != head[7] || p[8] != head[8]) return false;
        if (tcpHeader != f.TcpHeader) return false;
        var t = p[IpHeader..];
        if (Tcp.Sequence(t) != f.NextSeq || Tcp.AckNumber(t) != f.Ack) return false;
        return t.Slice(Tcp.MinHeader, tcpHeader - Tcp.MinHeader).SequenceEqual(head.Slice(IpHeader + Tcp.MinHeader, tcpHeader - Tcp.MinHeader));
    }

    private void Append(int slot, byte* packet, int length, int tcpHeader, int payload, byte flags)
    {
        ref var f = ref _flows[slot];
        var iov = _iov + slot * (MaxSegments + 1);
        iov[f.Count + 1] = new IoVec(packet + IpHeader + tcpHeader, payload);
        f.Count++;
        f.Total += payload;
        f.InnerBytes += length;
        f.NextSeq += (uint)payload;
        f.LastFlags = (byte)(flags & (Tcp.Psh | Tcp.Fin));
        if (payload < f.Mss) f.Closed = true;
    }

    private void FlushFlow(int slot)
    {
        if (slot < 0) return;
        ref var f = ref _flows[slot];
        if (!f.Active) return;
        f.Active = false;
        if (f.Count == 1)
        {
            WriteSingle(f.Head, f.HeadLength, dataValid: true);
            return;
        }
        var head = new Span<byte>(f.Head, IpHeader + f.TcpHeader);
        BinaryPrimitives.WriteUInt16BigEndian(head[2..], (ushort)f.Total);
        Ipv4.UpdateHeaderChecksum(head);
        head[IpHeader + 13] |= f.LastFlags;
        // NEEDS_CSUM: the checksum field holds the folded pseudo-header sum; the kernel (or the receiving stack's
        // segmentation) completes it.
        uint pseudo = Checksum.PseudoHeader(f.Source, f.Destination, Ipv4.ProtoTcp, f.Total - IpHeader);
        BinaryPrimitives.WriteUInt16BigEndian(head[(IpHeader + Tcp.ChecksumOffset)..], Checksum.Fold(pseudo));
        var hdr = new VirtioNetHdr
        {
            Flags = VirtioNetHdr.FlagNeedsCsum,
            GsoType = VirtioNetHdr.GsoTcpV4,
            HdrLen = (ushort)(IpHeader + f.TcpHeader),
            GsoSize = (ushort)f.Mss,
            CsumStart = IpHeader,
            CsumOffset = Tcp.ChecksumOffset,
        };
        _writer.Write(hdr, _iov + slot * (MaxSegments + 1), f.Count + 1, f.Count, f.InnerBytes);
    }

    private void WriteSingle(byte* packet, int length, bool dataValid)
    {
        _single[1] = new IoVec(packet, length);
        var hdr = new VirtioNetHdr { Flags = dataValid ? VirtioNetHdr.FlagDataValid : (byte)0 };
        _writer.Write(hdr, _single, 2, 1, length);
    }

    public void Dispose()
    {
        NativeMemory.Free(_iov);
        NativeMemory.Free(_single);
    }
}
