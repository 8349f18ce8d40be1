using System.Diagnostics;
using System.Runtime.InteropServices;
using Flannel.Net.Native;

namespace Flannel.Net.Tunnel;

/// <summary>
/// The thread of one queue: blocks in poll() on the queue's TUN descriptor, its UDP socket and the tunnel's stop eventfd,
/// then runs both pumps until both are drained (and idle for the optional spin time). Serving both directions on one
/// thread keeps a flow's data and ACKs on one core and lets a TUN write's synchronous delivery (the pod's answer is
/// often queued before the write returns) be picked up without another wake-up.
/// </summary>
internal sealed unsafe class QueueWorker
{
    private readonly int _tunFd;
    private readonly int _udpFd;
    private readonly int _stopFd;
    private readonly long _spinTicks;
    private readonly int _nice;
    private Thread? _thread;
    private volatile bool _stopping;

    public TunToUdpPump Outbound { get; }
    public UdpToTunPump Inbound { get; }

    /// <summary>Set when the loop ended because of an unexpected error (the tunnel reports it).</summary>
    public Exception? Failure { get; private set; }

    public QueueWorker(int tunFd, int udpFd, int stopFd, TunToUdpPump outbound, UdpToTunPump inbound, TimeSpan spin, int nice)
    {
        _nice = nice;
        _tunFd = tunFd;
        _udpFd = udpFd;
        _stopFd = stopFd;
        Outbound = outbound;
        Inbound = inbound;
        _spinTicks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
    }

    public void Start(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public bool Join(TimeSpan timeout) => _thread?.Join(timeout) ?? true;

    /// <summary>Makes the loop end at its next turn, also while traffic keeps it from ever reaching poll().</summary>
    public void RequestStop() => _stopping = true;

    private void Run()
    {
        // Best effort: without CAP_SYS_NICE the thread keeps the process's priority.
        if (_nice != 0) LibC.setpriority(LibC.PRIO_PROCESS, (uint)LibC.gettid(), _nice);
        try
        {
            while (!_stopping && WaitReadable(out bool tunReady, out bool udpReady))
            {
                // Only what poll() reported is asked, and once both pumps saw their input empty the thread goes back
                // to poll(): a wake-up for one packet costs no EAGAIN round trips. Inbound first: a TUN write often makes the
                // pod answer at once (delivery is synchronous), and the outbound drain right after picks it up.
                bool inEmpty = !udpReady, outEmpty = !tunReady;
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
                    if (_spinTicks == 0) break;
                    long now = Stopwatch.GetTimestamp();
                    if (got) idleSince = now;
                    else if (now - idleSince >= _spinTicks) break;
                    inEmpty = outEmpty = false;
                }
            }
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    private bool WaitReadable(out bool tunReady, out bool udpReady)
    {
        tunReady = udpReady = false;
        var fds = stackalloc PollFd[3];
        while (true)
        {
            fds[0] = new PollFd { Fd = _tunFd, Events = LibC.POLLIN };
            fds[1] = new PollFd { Fd = _udpFd, Events = LibC.POLLIN };
            fds[2] = new PollFd { Fd = _stopFd, Events = LibC.POLLIN };
            int r = LibC.poll(fds, 3, -1);
            if (r < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR) continue;
                throw LibC.Error("poll", errno);
            }
            if (fds[2].REvents != 0) return false;
            if (((fds[0].REvents | fds[1].REvents) & LibC.POLLNVAL) != 0) return false;
            tunReady = fds[0].REvents != 0;
            udpReady = fds[1].REvents != 0;
            if (tunReady || udpReady) return true;
        }
    }
}
