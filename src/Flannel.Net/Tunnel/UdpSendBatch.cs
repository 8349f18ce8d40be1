using System.Runtime.InteropServices;
using Flannel.Net.Memory;
using Flannel.Net.Native;

namespace Flannel.Net.Tunnel;

/// <summary>
/// The messages of one sendmmsg call and the arena holding their datagrams. Inner packets are laid out back to back at
/// <see cref="Tail"/>; with UDP GSO, consecutive packets for the same peer join one message (every datagram but the
/// last the same size, as UDP_SEGMENT requires), so a burst of small packets costs one pass through the kernel's UDP
/// and IP output instead of one per packet. The wire is unchanged: each datagram still carries one inner packet.
/// </summary>
internal sealed unsafe class UdpSendBatch : IDisposable
{
    public const int MaxMessages = 256;
    public const int MaxGsoSegments = 64;
    public const int MaxGsoBytes = 65507;
    private const int CmsgSpace = 24;

    private readonly int _arenaSize;
    private readonly byte* _arena;
    private readonly MMsgHdr* _msgs;
    private readonly IoVec* _iovs;
    private readonly SockAddrIn* _names;
    private readonly byte* _cmsgs;
    private readonly PeerRoute?[] _routes = new PeerRoute?[MaxMessages];
    private readonly int[] _segments = new int[MaxMessages];
    private readonly int[] _segmentSize = new int[MaxMessages];
    private int _used;

    public UdpSendBatch(int arenaSize, bool gso)
    {
        _arenaSize = arenaSize;
        Gso = gso;
        // Mapped (resident only once written) so an idle queue can give it back: ReleaseArena.
        _arena = (byte*)ZeroedPages.Map((nuint)arenaSize);
        _msgs = (MMsgHdr*)Alloc(sizeof(MMsgHdr) * MaxMessages);
        _iovs = (IoVec*)Alloc(sizeof(IoVec) * MaxMessages);
        _names = (SockAddrIn*)Alloc(sizeof(SockAddrIn) * MaxMessages);
        _cmsgs = (byte*)Alloc(CmsgSpace * MaxMessages);
    }

    private static void* Alloc(int bytes) => NativeMemory.AlignedAlloc((nuint)bytes, 64);

    /// <summary>Whether messages may carry several datagrams (UDP_SEGMENT); turned off when the kernel refuses it.</summary>
    public bool Gso { get; set; }

    public int Count { get; private set; }

    /// <summary>Where the next packet's bytes go (right after the last message's).</summary>
    public byte* Tail => _arena + _used;

    /// <summary>Free bytes at <see cref="Tail"/>.</summary>
    public int Room => _arenaSize - _used;

    public MMsgHdr* Messages => _msgs;

    /// <summary>The datagrams message <paramref name="i"/> stands for.</summary>
    public int Segments(int i) => _segments[i];

    public int SegmentSize(int i) => _segmentSize[i];

    public long Bytes(int i) => (long)_iovs[i].Length;

    public PeerRoute Route(int i) => _routes[i]!;

    public byte* Data(int i) => (byte*)_iovs[i].Base;

    public void Clear()
    {
        for (int i = 0; i < Count; i++) _routes[i] = null;
        Count = 0;
        _used = 0;
    }

    /// <summary>
    /// Adds the packet of <paramref name="length"/> bytes just written at <see cref="Tail"/>: appended to the last
    /// message when GSO allows (same peer, the message still open, not longer than its datagrams), else a new message.
    /// </summary>
    public void AddPacket(PeerRoute route, int length)
    {
        if (Count > 0 && Gso)
        {
            int last = Count - 1;
            long bytes = (long)_iovs[last].Length;
            int size = _segmentSize[last];
            if (ReferenceEquals(_routes[last], route) && (byte*)_iovs[last].Base + bytes == Tail &&
                bytes == (long)_segments[last] * size && length <= size &&
                _segments[last] < MaxGsoSegments && bytes + length <= MaxGsoBytes)
            {
                _iovs[last].Length += (nuint)length;
                _segments[last]++;
                SetSegmentOption(last);
                _used += length;
                return;
            }
        }
        Start(route, length, length, 1);
    }

    /// <summary>
    /// Adds <paramref name="segments"/> datagrams of <paramref name="segmentSize"/> bytes (the last may be shorter),
    /// <paramref name="length"/> bytes in all, just written at <see cref="Tail"/>: as few GSO messages as the limits allow.
    /// </summary>
    public void AddSegments(PeerRoute route, int length, int segmentSize, int segments)
    {
        int perMessage = Gso ? Math.Min(MaxGsoSegments, MaxGsoBytes / segmentSize) : 1;
        int remaining = length;
        for (int s = 0; s < segments; s += perMessage)
        {
            int inMsg = Math.Min(perMessage, segments - s);
            int bytes = Math.Min(remaining, inMsg * segmentSize);
            Start(route, bytes, segmentSize, inMsg);
            remaining -= bytes;
        }
    }

    /// <summary>How many more messages fit.</summary>
    public int FreeMessages => MaxMessages - Count;

    private void Start(PeerRoute route, int bytes, int segmentSize, int segments)
    {
        int i = Count++;
        _names[i] = route.Address;
        _iovs[i] = new IoVec(Tail, bytes);
        ref var h = ref _msgs[i].Hdr;
        h.Name = &_names[i];
        h.NameLen = (uint)sizeof(SockAddrIn);
        h.Iov = &_iovs[i];
        h.IovLen = 1;
        h.Flags = 0;
        _routes[i] = route;
        _segments[i] = segments;
        _segmentSize[i] = segmentSize;
        SetSegmentOption(i);
        _used += bytes;
    }

    /// <summary>A UDP_SEGMENT control message only where the message holds more than one datagram.</summary>
    private void SetSegmentOption(int i)
    {
        ref var h = ref _msgs[i].Hdr;
        if (_segments[i] > 1)
        {
            var c = (CmsgHdr*)(_cmsgs + i * CmsgSpace);
            c->Len = 18;
            c->Level = LibC.SOL_UDP;
            c->Type = LibC.UDP_SEGMENT;
            *(ushort*)((byte*)c + 16) = (ushort)_segmentSize[i];
            h.Control = c;
            h.ControlLen = CmsgSpace;
        }
        else
        {
            h.Control = null;
            h.ControlLen = 0;
        }
    }

    /// <summary>Gives the arena's pages back between batches (<see cref="ZeroedPages.Release"/>); it holds nothing then.</summary>
    public void ReleaseArena() => ZeroedPages.Release(_arena, (nuint)_arenaSize);

    public void Dispose()
    {
        ZeroedPages.Unmap(_arena, (nuint)_arenaSize);
        NativeMemory.AlignedFree(_msgs);
        NativeMemory.AlignedFree(_iovs);
        NativeMemory.AlignedFree(_names);
        NativeMemory.AlignedFree(_cmsgs);
    }
}
