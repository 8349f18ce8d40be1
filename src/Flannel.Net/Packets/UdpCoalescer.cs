using System.Buffers.Binary;
using Flannel.Net.Native;

namespace Flannel.Net.Packets;

/// <summary>
/// Coalesces consecutive UDP/IPv4 datagrams of a flow (within one receive batch) into one UDP GSO super-packet
/// (virtio gso_type UDP_L4), so the TUN write, routing, bridge and veth run once per super-packet; the receiving
/// socket's stack splits it back into the same datagrams. Rules keep the split exact: option-less IP header, no
/// fragments, same addresses/ports/TOS/TTL/DF, IP ids incrementing by one (the kernel numbers the segments so), UDP
/// length = IP total - 20, a nonzero and valid UDP checksum, every payload as long as the first but the last (which
/// may be shorter and closes the flow), at most 64 segments and 65535 bytes. Anything else is written on its own,
/// untouched (a wrong checksum is left for the kernel to drop). Packets stay in the caller's buffers until
/// <see cref="Flush"/>; the head is patched in place.
/// When the kernel refuses UDP GSO writes (EINVAL: a kernel without UDP_L4 support in virtio_net_hdr), the pending
/// super-packet is written datagram by datagram and every later datagram goes out on its own.
/// </summary>
public sealed unsafe class UdpCoalescer : FlowCoalescer
{
    private const int IpHeader = 20;
    private const int Headers = IpHeader + Udp.Header;

    private struct Flow
    {
        public byte* Head;
        public int SegmentSize;    // UDP payload of every segment but the last
        public ushort NextId;
        public int Total;          // IP total length of the super-packet
        public int Count;
        public bool Closed;        // a shorter segment was appended: nothing may follow it
    }

    private readonly Flow[] _flows = new Flow[MaxFlows];

    public UdpCoalescer(ITunWriter writer) : base(writer) { }

    /// <summary>True once the kernel refused a UDP GSO write; from then on every datagram is written on its own.</summary>
    public bool GsoRefused { get; private set; }

    /// <summary>Adds a validated IPv4 packet of <paramref name="length"/> bytes (its total length).</summary>
    public void Add(byte* packet, int length)
    {
        var p = new ReadOnlySpan<byte>(packet, length);
        if (!IsPlainUdp(p))
        {
            if (p.Length >= IpHeader) FlushAddresses(Ipv4.Source(p), Ipv4.Destination(p));
            WriteSingle(packet, length, dataValid: false);
            return;
        }
        uint src = Ipv4.Source(p), dst = Ipv4.Destination(p), ports = BinaryPrimitives.ReadUInt32BigEndian(p[IpHeader..]);
        int f = FindFlow(src, dst, ports);
        int payload = length - Headers;
        if (GsoRefused || payload <= 0 || Udp.Length(p[IpHeader..]) != length - IpHeader || !Udp.ChecksumValid(p))
        {
            FlushFlow(f);
            WriteSingle(packet, length, dataValid: false);
            return;
        }
        if (f >= 0)
        {
            ref var flow = ref _flows[f];
            if (CanAppend(ref flow, p, payload))
            {
                Append(f, packet, payload);
                if (flow.Closed || flow.Count == MaxSegments || flow.Total + flow.SegmentSize > 65535) FlushFlow(f);
                return;
            }
            FlushFlow(f);
        }
        Start(OpenFlow(src, dst, ports), packet, length);
    }

    private static bool IsPlainUdp(ReadOnlySpan<byte> p) =>
        p.Length >= Headers && p[0] == 0x45 && Ipv4.Protocol(p) == Ipv4.ProtoUdp && !Ipv4.IsFragment(p);

    private void Start(int slot, byte* packet, int length)
    {
        ref var f = ref _flows[slot];
        f.Closed = false;
        f.Head = packet;
        f.SegmentSize = length - Headers;
        f.NextId = (ushort)(Ipv4.Id(new ReadOnlySpan<byte>(packet, IpHeader)) + 1);
        f.Total = length;
        f.Count = 1;
        Segments(slot)[1] = new IoVec(packet, length);
    }

    private static bool CanAppend(ref Flow f, ReadOnlySpan<byte> p, int payload)
    {
        if (f.Closed || f.Count >= MaxSegments || payload > f.SegmentSize || f.Total + payload > 65535) return false;
        var head = new ReadOnlySpan<byte>(f.Head, IpHeader);
        // TOS, DF (the fragment field is otherwise zero here) and TTL must match: every segment gets the head's.
        return p[1] == head[1] && p[6] == head[6] && p[7] == head[7] && p[8] == head[8] && Ipv4.Id(p) == f.NextId;
    }

    private void Append(int slot, byte* packet, int payload)
    {
        ref var f = ref _flows[slot];
        Segments(slot)[f.Count + 1] = new IoVec(packet + Headers, payload);
        f.Count++;
        f.Total += payload;
        f.NextId++;
        if (payload < f.SegmentSize) f.Closed = true;
    }

    protected override void FlushFlow(int slot)
    {
        if (!CloseFlow(slot)) return;
        ref var f = ref _flows[slot];
        if (f.Count == 1)
        {
            WriteSingle(f.Head, f.Total, dataValid: true);
            return;
        }
        var head = new Span<byte>(f.Head, Headers);
        ushort ipTotal = BinaryPrimitives.ReadUInt16BigEndian(head[2..]);
        ushort ipCheck = BinaryPrimitives.ReadUInt16BigEndian(head[10..]);
        uint udpLenCheck = BinaryPrimitives.ReadUInt32BigEndian(head[(IpHeader + Udp.LengthOffset)..]);
        BinaryPrimitives.WriteUInt16BigEndian(head[2..], (ushort)f.Total);
        Ipv4.UpdateHeaderChecksum(head);
        BinaryPrimitives.WriteUInt16BigEndian(head[(IpHeader + Udp.LengthOffset)..], (ushort)(f.Total - IpHeader));
        // NEEDS_CSUM: the checksum field holds the folded pseudo-header sum over the super-packet's UDP length; the
        // segmentation swaps in each datagram's length and completes it.
        uint pseudo = Checksum.PseudoHeader(Ipv4.Source(head), Ipv4.Destination(head), Ipv4.ProtoUdp, f.Total - IpHeader);
        BinaryPrimitives.WriteUInt16BigEndian(head[(IpHeader + Udp.ChecksumOffset)..], Checksum.Fold(pseudo));
        var hdr = new VirtioNetHdr
        {
            Flags = VirtioNetHdr.FlagNeedsCsum,
            GsoType = VirtioNetHdr.GsoUdpL4,
            HdrLen = Headers,
            GsoSize = (ushort)f.SegmentSize,
            CsumStart = IpHeader,
            CsumOffset = Udp.ChecksumOffset,
        };
        var iov = Segments(slot);
        if (Writer.Write(hdr, iov, f.Count + 1, f.Count, f.Total + (f.Count - 1) * Headers)) return;

        // Refused: restore the head and write every datagram as it came (the others are whole in the caller's buffers).
        GsoRefused = true;
        BinaryPrimitives.WriteUInt16BigEndian(head[2..], ipTotal);
        BinaryPrimitives.WriteUInt16BigEndian(head[10..], ipCheck);
        BinaryPrimitives.WriteUInt32BigEndian(head[(IpHeader + Udp.LengthOffset)..], udpLenCheck);
        WriteSingle(f.Head, Headers + f.SegmentSize, dataValid: true);
        for (int i = 2; i <= f.Count; i++) WriteSingle((byte*)iov[i].Base - Headers, (int)iov[i].Length + Headers, dataValid: true);
    }
}
