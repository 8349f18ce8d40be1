using System.Diagnostics;
using System.Runtime.InteropServices;
using Flannel.Net.Native;

namespace Flannel.Net.Tunnel;

/// <summary>
/// The thread of one queue: blocks in poll() on the queue's TUN descriptor, its UDP socket and the tunnel's stop eventfd,
/// then runs both pumps until both are drained (and idle for the optional spin time). Serving both directions on one
/// thread keeps a flow's data and ACKs on one core and lets a TUN write's synchronous delivery (the pod's answer is
/// often queued before the write returns) be picked up without another wake-up.
/// <para>
/// Idle queues cost no thread and no buffer memory. After <see cref="UdpTunnelOptions.IdleRelease"/> without a packet a
/// queue gives its large buffers back (<see cref="Pump.ReleaseBuffers"/>, from its own thread, between batches), and
/// every queue but the first (the anchor) then ends its thread. The anchor also polls the descriptors of the dormant
/// queues and starts a queue's thread again when its descriptor becomes readable (level-triggered: a packet that
/// arrived while a thread was ending is still there). A queue that goes dormant writes the anchor's rewatch eventfd so
/// the anchor adds its descriptors to the next poll(). Measured (bench/footprint.sh, RESULTS.md, 2026-12-01): an idle
/// udp agent runs one queue thread instead of one per core.
/// </para>
/// </summary>
internal sealed unsafe class QueueWorker
{
    private const int Dormant = 0, Running = 1;

    private readonly int _tunFd;
    private readonly int _udpFd;
    private readonly int _stopFd;
    private readonly long _spinTicks;
    private readonly int _idleMs;
    private readonly int _nice;
    private readonly string _name;
    // Anchor only: the other queues (watched while dormant) and the eventfd they write when they go dormant.
    private readonly QueueWorker[] _others;
    private readonly int _rewatchFd;
    // Not the anchor: the anchor's rewatch eventfd.
    private readonly int _anchorRewatchFd;
    private int _state;
    private Thread? _thread;
    private volatile bool _stopping;

    public TunToUdpPump Outbound { get; }
    public UdpToTunPump Inbound { get; }

    /// <summary>Set when the loop ended because of an unexpected error (the tunnel reports it).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Whether the queue has a thread now (false while dormant).</summary>
    public bool IsRunning => Volatile.Read(ref _state) == Running;

    private bool IsAnchor => _anchorRewatchFd < 0;

    private QueueWorker(string name, int tunFd, int udpFd, int stopFd, TunToUdpPump outbound, UdpToTunPump inbound,
        UdpTunnelOptions options, QueueWorker[] others, int rewatchFd, int anchorRewatchFd)
    {
        _name = name;
        _nice = options.Nice;
        _tunFd = tunFd;
        _udpFd = udpFd;
        _stopFd = stopFd;
        Outbound = outbound;
        Inbound = inbound;
        _spinTicks = (long)(options.Spin.TotalSeconds * Stopwatch.Frequency);
        _idleMs = (int)Math.Ceiling(options.IdleRelease.TotalMilliseconds);
        _others = others;
        _rewatchFd = rewatchFd;
        _anchorRewatchFd = anchorRewatchFd;
    }

    /// <summary>A queue other than the first: dormant until the anchor sees its descriptors readable.</summary>
    public static QueueWorker Secondary(string name, int tunFd, int udpFd, int stopFd, TunToUdpPump outbound,
        UdpToTunPump inbound, UdpTunnelOptions options, int anchorRewatchFd) =>
        new(name, tunFd, udpFd, stopFd, outbound, inbound, options, [], -1, anchorRewatchFd);

    /// <summary>The first queue: always has a thread, and watches <paramref name="others"/> while they are dormant.</summary>
    public static QueueWorker Anchor(string name, int tunFd, int udpFd, int stopFd, TunToUdpPump outbound,
        UdpToTunPump inbound, UdpTunnelOptions options, QueueWorker[] others, int rewatchFd) =>
        new(name, tunFd, udpFd, stopFd, outbound, inbound, options, others, rewatchFd, -1);

    /// <summary>Starts the anchor's thread (the others start on traffic).</summary>
    public void Start()
    {
        Volatile.Write(ref _state, Running);
        StartThread();
    }

    private void Wake()
    {
        if (Interlocked.CompareExchange(ref _state, Running, Dormant) == Dormant) StartThread();
    }

    private void StartThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = _name };
        thread.Start();
        // After Start: Join must never see an unstarted thread (it would throw).
        Volatile.Write(ref _thread, thread);
    }

    /// <summary>Waits for the queue's current thread, if it has one (call after the anchor has ended: it starts no more).</summary>
    public bool Join(TimeSpan timeout) => Volatile.Read(ref _thread)?.Join(timeout) ?? true;

    /// <summary>Makes the loop end at its next turn, also while traffic keeps it from ever reaching poll().</summary>
    public void RequestStop() => _stopping = true;

    private void Run()
    {
        // Best effort: without CAP_SYS_NICE the thread keeps the process's priority.
        if (_nice != 0) LibC.setpriority(LibC.PRIO_PROCESS, (uint)LibC.gettid(), _nice);
        bool buffersUsed = false;
        try
        {
            while (!_stopping)
            {
                // The anchor blocks without a timeout once its buffers are given back; the others end instead.
                int timeout = buffersUsed || !IsAnchor ? _idleMs : -1;
                var ready = WaitReadable(timeout, out bool tunReady, out bool udpReady);
                if (ready == Wait.Stop) break;
                if (ready == Wait.Rewatch) continue;
                if (ready == Wait.Idle)
                {
                    Inbound.ReleaseBuffers();
                    Outbound.ReleaseBuffers();
                    buffersUsed = false;
                    if (IsAnchor) continue;
                    // Dormant from here on: the anchor watches the descriptors again (the write wakes its poll).
                    Volatile.Write(ref _state, Dormant);
                    ulong one = 1;
                    LibC.write(_anchorRewatchFd, &one, sizeof(ulong));
                    return;
                }
                buffersUsed = true;
                Drain(!udpReady, !tunReady);
            }
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    private void Drain(bool inEmpty, bool outEmpty)
    {
        // Only what poll() reported is asked, and once both pumps saw their input empty the thread goes back
        // to poll(): a wake-up for one packet costs no EAGAIN round trips. Inbound first: a TUN write often makes the
        // pod answer at once (delivery is synchronous), and the outbound drain right after picks it up.
        long idleSince = Stopwatch.GetTimestamp();
        while (!_stopping)
        {
            bool got = false;
            if (!inEmpty)
            {
                bool r = Inbound.DrainBatch();
                inEmpty = !r || Inbound.Drained;
                got = r;
            }
            if (!outEmpty || got)
            {
                bool r = Outbound.DrainBatch();
                outEmpty = !r || Outbound.Drained;
                got |= r;
            }
            // While either side is busy, ask both every turn: a sender that keeps the TUN full must not
            // starve the peer's datagrams (its own ACKs among them) and vice versa.
            if (!inEmpty || !outEmpty)
            {
                inEmpty = outEmpty = false;
                continue;
            }
            if (_spinTicks == 0) return;
            long now = Stopwatch.GetTimestamp();
            if (got) idleSince = now;
            else if (now - idleSince >= _spinTicks) return;
            inEmpty = outEmpty = false;
        }
    }

    private enum Wait { Ready, Stop, Idle, Rewatch }

    private Wait WaitReadable(int timeoutMs, out bool tunReady, out bool udpReady)
    {
        tunReady = udpReady = false;
        // Own TUN, own socket, stop; the anchor adds its rewatch eventfd and each dormant queue's TUN and socket.
        int max = 4 + 2 * _others.Length;
        var fds = stackalloc PollFd[max];
        var watched = stackalloc int[_others.Length + 1];
        while (true)
        {
            fds[0] = new PollFd { Fd = _tunFd, Events = LibC.POLLIN };
            fds[1] = new PollFd { Fd = _udpFd, Events = LibC.POLLIN };
            fds[2] = new PollFd { Fd = _stopFd, Events = LibC.POLLIN };
            int count = 3, dormant = 0;
            if (_others.Length > 0)
            {
                fds[count++] = new PollFd { Fd = _rewatchFd, Events = LibC.POLLIN };
                for (int i = 0; i < _others.Length; i++)
                {
                    var q = _others[i];
                    if (q.IsRunning) continue;
                    watched[dormant++] = i;
                    fds[count++] = new PollFd { Fd = q._tunFd, Events = LibC.POLLIN };
                    fds[count++] = new PollFd { Fd = q._udpFd, Events = LibC.POLLIN };
                }
            }
            int r = LibC.poll(fds, (nuint)count, timeoutMs);
            if (r < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                throw LibC.Error("poll", errno);
            }
            if (r == 0) return Wait.Idle;
            if (fds[2].REvents != 0) return Wait.Stop;
            if (((fds[0].REvents | fds[1].REvents) & LibC.POLLNVAL) != 0) return Wait.Stop;
            bool rewatch = false;
            if (_others.Length > 0)
            {
                if (fds[3].REvents != 0)
                {
                    ulong value;
                    LibC.read(_rewatchFd, &value, sizeof(ulong)); // resets the eventfd (non-blocking: EAGAIN is fine)
                    rewatch = true;
                }
                for (int k = 0; k < dormant; k++)
                {
                    if ((fds[4 + 2 * k].REvents | fds[5 + 2 * k].REvents) == 0) continue;
                    _others[watched[k]].Wake();
                    rewatch = true;
                }
            }
            tunReady = fds[0].REvents != 0;
            udpReady = fds[1].REvents != 0;
            if (tunReady || udpReady) return Wait.Ready;
            if (rewatch) return Wait.Rewatch;
        }
    }
}
