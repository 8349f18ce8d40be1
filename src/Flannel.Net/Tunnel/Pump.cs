using System.Runtime.InteropServices;
using Flannel.Net.Native;

namespace Flannel.Net.Tunnel;

/// <summary>
/// A dedicated thread that blocks in poll() on its input descriptor and the tunnel's stop eventfd, then drains the
/// input in batches. Native buffers are allocated once and freed after the thread has ended.
/// </summary>
internal abstract unsafe class Worker : IDisposable
{
    private readonly int _inputFd;
    private readonly int _stopFd;
    private readonly List<nint> _allocations = new();
    private Thread? _thread;

    public WorkerCounters Counters { get; } = new();

    /// <summary>Set when the loop ended because of an unexpected error (the tunnel reports it).</summary>
    public Exception? Failure { get; private set; }

    protected Worker(int inputFd, int stopFd)
    {
        _inputFd = inputFd;
        _stopFd = stopFd;
    }

    public void Start(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public bool Join(TimeSpan timeout) => _thread?.Join(timeout) ?? true;

    private void Run()
    {
        try
        {
            while (WaitReadable()) DrainBatch();
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    /// <summary>Reads what is available (without blocking) and forwards it.</summary>
    protected abstract void DrainBatch();

    private bool WaitReadable()
    {
        var fds = stackalloc PollFd[2];
        while (true)
        {
            fds[0] = new PollFd { Fd = _inputFd, Events = LibC.POLLIN };
            fds[1] = new PollFd { Fd = _stopFd, Events = LibC.POLLIN };
            int r = LibC.poll(fds, 2, -1);
            if (r < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                throw LibC.Error("poll", errno);
            }
            if (fds[1].REvents != 0) return false;
            if ((fds[0].REvents & (LibC.POLLNVAL)) != 0) return false;
            if (fds[0].REvents != 0) return true;
        }
    }

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
