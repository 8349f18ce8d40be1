using System.Runtime.InteropServices;
using Flannel.Net.Native;

namespace Flannel.Net.Packets;

/// <summary>
/// The flow table the TCP and UDP coalescers share: up to <see cref="MaxFlows"/> open flows keyed by addresses and
/// ports, each with room for a virtio header iovec plus <see cref="MaxSegments"/> segment iovecs. When the table is
/// full the oldest flow is written to make room, and flushes run oldest first, so packets of one address pair keep
/// their order. What a flow may absorb and how it is written is the subclass's business.
/// </summary>
public abstract unsafe class FlowCoalescer : IDisposable
{
    public const int MaxFlows = 8;
    public const int MaxSegments = 64;

    private struct Key
    {
        public bool Active;
        public long Order;
        public uint Source, Destination, Ports;
    }

    private readonly Key[] _keys = new Key[MaxFlows];
    private readonly IoVec* _iov;
    private readonly IoVec* _single;
    private long _order;
    private int _active;
    private bool _disposed;

    protected FlowCoalescer(ITunWriter writer)
    {
        Writer = writer;
        _iov = (IoVec*)NativeMemory.AllocZeroed((nuint)(sizeof(IoVec) * MaxFlows * (MaxSegments + 1)));
        _single = (IoVec*)NativeMemory.AllocZeroed((nuint)(sizeof(IoVec) * 2));
    }

    protected ITunWriter Writer { get; }

    /// <summary>Writes every pending flow (end of a receive batch: the buffers are about to be reused).</summary>
    public void Flush()
    {
        while (_active > 0) FlushFlow(Oldest(all: true, 0, 0));
    }

    /// <summary>
    /// Writes the pending flows between <paramref name="src"/> and <paramref name="dst"/>, oldest first, so that a
    /// packet of that address pair written by someone else next does not overtake them.
    /// </summary>
    public void FlushAddresses(uint src, uint dst)
    {
        while (_active > 0)
        {
            int f = Oldest(all: false, src, dst);
            if (f < 0) return;
            FlushFlow(f);
        }
    }

    /// <summary>Writes the flow in <paramref name="slot"/> if it is open (a negative slot is no flow) and frees it.</summary>
    protected abstract void FlushFlow(int slot);

    /// <summary>The open flow with this key, or -1.</summary>
    protected int FindFlow(uint src, uint dst, uint ports)
    {
        if (_active == 0) return -1;
        for (int i = 0; i < MaxFlows; i++)
        {
            ref var k = ref _keys[i];
            if (k.Active && k.Source == src && k.Destination == dst && k.Ports == ports) return i;
        }
        return -1;
    }

    /// <summary>Opens a flow for this key in a free slot, writing the oldest flow first when none is free.</summary>
    protected int OpenFlow(uint src, uint dst, uint ports)
    {
        int slot = -1;
        for (int i = 0; i < MaxFlows && slot < 0; i++)
            if (!_keys[i].Active) slot = i;
        if (slot < 0)
        {
            slot = Oldest(all: true, 0, 0);
            FlushFlow(slot);
        }
        _keys[slot] = new Key { Active = true, Order = ++_order, Source = src, Destination = dst, Ports = ports };
        _active++;
        return slot;
    }

    /// <summary>Marks the flow closed; false when it was not open (the caller then has nothing to write).</summary>
    protected bool CloseFlow(int slot)
    {
        if (slot < 0 || !_keys[slot].Active) return false;
        _keys[slot].Active = false;
        _active--;
        return true;
    }

    /// <summary>The flow's iovecs: [0] is left for the writer's virtio header, [1] the head, then one per appended segment.</summary>
    protected IoVec* Segments(int slot) => _iov + slot * (MaxSegments + 1);

    /// <summary>Writes one packet as it came; <paramref name="dataValid"/> when its checksum was verified here.</summary>
    protected void WriteSingle(byte* packet, int length, bool dataValid)
    {
        _single[1] = new IoVec(packet, length);
        var hdr = new VirtioNetHdr { Flags = dataValid ? VirtioNetHdr.FlagDataValid : (byte)0 };
        Writer.Write(hdr, _single, 2, 1, length);
    }

    private int Oldest(bool all, uint src, uint dst)
    {
        int oldest = -1;
        for (int i = 0; i < MaxFlows; i++)
        {
            ref var k = ref _keys[i];
            if (!k.Active || (!all && (k.Source != src || k.Destination != dst))) continue;
            if (oldest < 0 || k.Order < _keys[oldest].Order) oldest = i;
        }
        return oldest;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMemory.Free(_iov);
        NativeMemory.Free(_single);
        GC.SuppressFinalize(this);
    }
}
