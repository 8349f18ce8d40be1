using System.Runtime.InteropServices;

namespace Flannel.Net.Tunnel;

/// <summary>
/// Moves packets one way for one queue: drains what its input descriptor has (never blocks) and forwards it.
/// Native buffers are allocated once and freed on Dispose, after the queue's thread has ended.
/// </summary>
internal abstract unsafe class Pump : IDisposable
{
    private readonly List<nint> _allocations = new();

    public WorkerCounters Counters { get; } = new();

    /// <summary>Reads what is available without blocking and forwards it; false when there was nothing.</summary>
    public abstract bool DrainBatch();

    /// <summary>
    /// Whether the last <see cref="DrainBatch"/> saw its input empty (it stopped on EAGAIN or a short batch rather than a
    /// full one), so the queue's thread can go back to poll() instead of asking again (one syscall less per wake-up).
    /// </summary>
    public bool Drained { get; protected set; }

    protected void* Alloc(int bytes)
    {
        var p = NativeMemory.AlignedAlloc((nuint)bytes, 64);
        NativeMemory.Clear(p, (nuint)bytes);
        _allocations.Add((nint)p);
        return p;
    }

    public virtual void Dispose()
    {
        foreach (var p in _allocations) NativeMemory.AlignedFree((void*)p);
        _allocations.Clear();
    }
}
