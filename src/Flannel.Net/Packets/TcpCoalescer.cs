using System.Buffers.Binary;
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
public sealed unsafe class TcpCoalescer : FlowCoalescer
{
    private const int IpHeader = 20;

    private struct Flow
    {
        public bool Closed;
        public byte* Head;
        public int HeadLength;
        public int TcpHeader;
        public int Mss;
        public uint Ack, NextSeq;
        public int Total;          // IP total length of the super-packet
        public int InnerBytes;     // sum of the original packets' lengths
        public int Count;
        public byte LastFlags;
    }

    private readonly Flow[] _flows = new Flow[MaxFlows];

    public TcpCoalescer(ITunWriter writer) : base(writer) { }

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
        Start(OpenFlow(src, dst, ports), packet, length, tcpHeader, payload);
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

    private void Start(int slot, byte* packet, int length, int tcpHeader, int payload)
    {
        ref var f = ref _flows[slot];
        f.Closed = false;
        f.Head = packet;
        f.HeadLength = length;
        f.TcpHeader = tcpHeader;
        f.Mss = payload;
        var t = new ReadOnlySpan<byte>(packet + IpHeader, tcpHeader);
        f.Ack = Tcp.AckNumber(t);
        f.NextSeq = Tcp.Sequence(t) + (uint)payload;
        f.Total = length;
        f.InnerBytes = length;
        f.Count = 1;
        f.LastFlags = 0;
        Segments(slot)[1] = new IoVec(packet, length);
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
        Segments(slot)[f.Count + 1] = new IoVec(packet + IpHeader + tcpHeader, payload);
        f.Count++;
        f.Total += payload;
        f.InnerBytes += length;
        f.NextSeq += (uint)payload;
        f.LastFlags = (byte)(flags & (Tcp.Psh | Tcp.Fin));
        if (payload < f.Mss) f.Closed = true;
    }

    protected override void FlushFlow(int slot)
    {
        if (!CloseFlow(slot)) return;
        ref var f = ref _flows[slot];
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
        uint pseudo = Checksum.PseudoHeader(Ipv4.Source(head), Ipv4.Destination(head), Ipv4.ProtoTcp, f.Total - IpHeader);
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
        Writer.Write(hdr, Segments(slot), f.Count + 1, f.Count, f.InnerBytes);
    }
}
