using System.Runtime.InteropServices;
using Flannel.Net.Memory;

namespace Flannel.Net.Tunnel;

/// <summary>
/// Moves packets one way for one queue: drains what its input descriptor has (never blocks) and forwards it.
/// Native buffers are allocated once and freed on Dispose, after the queue's thread has ended.
/// </summary>
internal abstract unsafe class Pump : IDisposable
{
    private readonly List<(nint Pointer, nuint Bytes, bool Mapped)> _allocations = new();

    /// <summary>From this size on, a buffer is mapped (<see cref="ZeroedPages"/>): resident only once written.</summary>
    internal const int MappedFrom = 64 * 1024;

    public WorkerCounters Counters { get; } = new();

    /// <summary>Reads what is available without blocking and forwards it; false when there was nothing.</summary>
    public abstract bool DrainBatch();

    /// <summary>
    /// Whether the last <see cref="DrainBatch"/> saw its input empty (it stopped on EAGAIN or a short batch rather than a
    /// full one), so the queue's thread can go back to poll() instead of asking again (one syscall less per wake-up).
    /// </summary>
    public bool Drained { get; protected set; }

    /// <summary>Zeroed, 64-byte aligned memory owned by this pump until <see cref="Dispose"/>.</summary>
    protected void* Alloc(int bytes)
    {
        if (bytes >= MappedFrom)
        {
            var m = ZeroedPages.Map((nuint)bytes);
            _allocations.Add(((nint)m, (nuint)bytes, true));
            return m;
        }
        var p = NativeMemory.AlignedAlloc((nuint)bytes, 64);
        NativeMemory.Clear(p, (nuint)bytes);
        _allocations.Add(((nint)p, (nuint)bytes, false));
        return p;
    }

    /// <summary>
    /// Gives the large buffers' pages back (<see cref="ZeroedPages.Release"/>); called by the queue's own thread after a
    /// quiet period, between batches, when no buffer holds anything still needed. The next burst faults them in again.
    /// </summary>
    public virtual void ReleaseBuffers()
    {
        foreach (var (p, bytes, mapped) in _allocations)
            if (mapped) ZeroedPages.Release((void*)p, bytes);
    }

    public virtual void Dispose()
    {
        foreach (var (p, bytes, mapped) in _allocations)
        {
            if (mapped) ZeroedPages.Unmap((void*)p, bytes);
            else NativeMemory.AlignedFree((void*)p);
        }
        _allocations.Clear();
    }
}
