using System.Net;
using System.Runtime.InteropServices;
using Flannel.Net.Backends;
using Flannel.Net.Native;
using Flannel.Net.Tun;

namespace Flannel.Net.Tunnel;

/// <summary>
/// flannel's udp backend data path: inner IPv4 packets from the TUN go in UDP (payload = the raw packet, nothing
/// else) to the peer owning the destination subnet; datagrams from known peers go to the TUN. Per queue there is a
/// TUN descriptor, a UDP socket (SO_REUSEPORT group) and one thread. The device's addresses, MTU and routes are set
/// by the caller; the tunnel only creates the device, sets its transmit queue length and moves packets.
/// </summary>
public sealed class UdpTunnel : IDisposable
{
    private readonly TunDevice _tun;
    private readonly int[] _sockets;
    private readonly int _stopFd;
    private readonly int _rewatchFd;
    private readonly TunnelState _state;
    private readonly List<QueueWorker> _workers = new();
    private readonly Dictionary<uint, PeerStats> _peerStats = new();
    private readonly object _updateLock = new();
    private readonly int _port;
    private bool _disposed;

    /// <summary>The TUN device's name.</summary>
    public string TunName => _tun.Name;

    /// <summary>True when the TUN offloads (TSO + coalescing) are in use.</summary>
    public bool TunOffload => _tun.Offload;

    /// <summary>True when UDP GSO (UDP_SEGMENT) is used for sending.</summary>
    public bool UdpGso { get; }

    /// <summary>True when UDP GRO is used for receiving.</summary>
    public bool UdpGro { get; }

    public int Queues => _sockets.Length;

    public UdpTunnelOptions Options { get; }

    private UdpTunnel(UdpTunnelOptions options, TunDevice tun, int[] sockets, int stopFd, int rewatchFd, TunnelState state,
        bool gso, bool gro)
    {
        _rewatchFd = rewatchFd;
        Options = options;
        _tun = tun;
        _sockets = sockets;
        _stopFd = stopFd;
        _state = state;
        _port = options.Port;
        UdpGso = gso;
        UdpGro = gro;
    }

    /// <summary>
    /// Creates or attaches to the TUN device, binds the UDP sockets and starts the worker threads. Throws
    /// <see cref="ArgumentException"/> for bad options and <see cref="IOException"/> when the kernel refuses.
    /// </summary>
    public static UdpTunnel Start(UdpTunnelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int queues = options.EffectiveQueues;
        TunDevice? tun = null;
        int[]? sockets = null;
        int stopFd = -1, rewatchFd = -1;
        try
        {
            tun = TunDevice.Open(options.TunName, queues, options.Offload);
            if (options.TxQueueLength > 0) TunDevice.SetTxQueueLength(options.TunName, options.TxQueueLength);
            if (options.TunAddress is not null) TunDevice.AcceptLocalSource(options.TunName);
            sockets = UdpSockets.Open(PeerTable.ToHost(options.LocalAddress), options.Port, queues, options.SocketBufferBytes,
                options.Offload, out bool gso, out bool gro);
            stopFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            if (stopFd < 0) throw LibC.Error("eventfd", Marshal.GetLastPInvokeError());
            rewatchFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            if (rewatchFd < 0) throw LibC.Error("eventfd", Marshal.GetLastPInvokeError());
            var state = new TunnelState
            {
                Mtu = options.Mtu,
                CheckInnerAddresses = options.CheckInnerAddresses,
                TunAddress = options.TunAddress is null ? 0 : PeerTable.ToHost(options.TunAddress),
                Local = options.LocalSubnet is { } subnet ? new LocalSubnet(subnet) : null,
            };
            var tunnel = new UdpTunnel(options, tun, sockets, stopFd, rewatchFd, state, gso, gro);
            tunnel.StartWorkers();
            return tunnel;
        }
        catch
        {
            tun?.Dispose();
            if (sockets != null) foreach (var s in sockets) LibC.close(s);
            if (stopFd >= 0) LibC.close(stopFd);
            if (rewatchFd >= 0) LibC.close(rewatchFd);
            throw;
        }
    }

    private void StartWorkers()
    {
        // Queue 0 (the anchor) runs from the start; the others start when their descriptors become readable and end
        // again after IdleRelease without traffic (QueueWorker).
        var secondaries = new QueueWorker[_sockets.Length - 1];
        for (int q = 1; q < _sockets.Length; q++)
        {
            var (outbound, inbound) = Pumps(q);
            secondaries[q - 1] = QueueWorker.Secondary($"{_tun.Name} q{q}", _tun.QueueFds[q], _sockets[q], _stopFd,
                outbound, inbound, Options, _rewatchFd);
        }
        var (out0, in0) = Pumps(0);
        var anchor = QueueWorker.Anchor($"{_tun.Name} q0", _tun.QueueFds[0], _sockets[0], _stopFd, out0, in0, Options,
            secondaries, _rewatchFd);
        _workers.Add(anchor);
        _workers.AddRange(secondaries);
        anchor.Start();
    }

    private (TunToUdpPump, UdpToTunPump) Pumps(int q) =>
        (new TunToUdpPump(_tun.QueueFds[q], _sockets[q], _tun.Offload, UdpGso, _state),
         new UdpToTunPump(_sockets[q], _tun.QueueFds[q], _tun.Offload, UdpGro, _state));

    /// <summary>How many queues have a thread now (idle queues but the first have none).</summary>
    public int RunningQueues => _workers.Count(w => w.IsRunning);

    /// <summary>
    /// Replaces the peer table atomically (packets in flight see the old or the new one). Only IPv4 peers whose
    /// backend type is "udp" are used; counters of peers that stay are kept.
    /// </summary>
    public void UpdatePeers(IEnumerable<PeerLease> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        lock (_updateLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var table = PeerTable.FromLeases(peers, _port, ip =>
            {
                if (!_peerStats.TryGetValue(ip, out var s)) _peerStats[ip] = s = new PeerStats();
                return s;
            });
            var live = table.Routes.Select(r => r.PublicIp).ToHashSet();
            foreach (var gone in _peerStats.Keys.Where(k => !live.Contains(k)).ToList()) _peerStats.Remove(gone);
            _state.Table = table;
        }
    }

    /// <summary>
    /// This node's lease changed (or is known now): inner destinations are checked against <paramref name="subnet"/> from
    /// the next batch on, and ICMP replies come from <paramref name="tunAddress"/> when the tunnel sends them at all.
    /// </summary>
    public void SetLocalSubnet(IPNetwork subnet, IPAddress? tunAddress = null)
    {
        var local = new LocalSubnet(subnet);
        lock (_updateLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _state.Local = local;
            if (tunAddress is not null && _state.TunAddress != 0) _state.TunAddress = PeerTable.ToHost(tunAddress);
        }
    }

    /// <summary>The counters now: per direction, per drop reason and per current peer.</summary>
    public TunnelCounters Snapshot()
    {
        Dictionary<DropReason, long> Drops(Func<QueueWorker, Pump> side)
        {
            var drops = new Dictionary<DropReason, long>();
            foreach (var reason in Enum.GetValues<DropReason>())
            {
                long sum = 0;
                foreach (var w in _workers) sum += Volatile.Read(ref side(w).Counters.Drops[(int)reason]);
                drops[reason] = sum;
            }
            return drops;
        }
        var peers = new List<PeerCounters>();
        lock (_updateLock)
        {
            foreach (var (ip, s) in _peerStats.OrderBy(kv => kv.Key))
            {
                peers.Add(new PeerCounters(PeerTable.ToAddress(ip),
                    new TrafficCounters(Volatile.Read(ref s.TxPackets), Volatile.Read(ref s.TxBytes)),
                    new TrafficCounters(Volatile.Read(ref s.RxPackets), Volatile.Read(ref s.RxBytes))));
            }
        }
        long R(Func<WorkerCounters, long> read) => _workers.Sum(w => read(w.Inbound.Counters));
        var coalescing = new CoalescingCounters(
            R(c => Volatile.Read(ref c.TcpSuperPackets)), R(c => Volatile.Read(ref c.TcpCoalescedSegments)),
            R(c => Volatile.Read(ref c.UdpSuperPackets)), R(c => Volatile.Read(ref c.UdpCoalescedSegments)),
            R(c => Volatile.Read(ref c.UdpGsoRefused)));
        return new TunnelCounters(Sum(w => w.Outbound), Sum(w => w.Inbound), Drops(w => w.Outbound), Drops(w => w.Inbound), peers,
            TunOffload, Queues) { Coalescing = coalescing };
    }

    private TrafficCounters Sum(Func<QueueWorker, Pump> pump)
    {
        long p = 0, b = 0;
        foreach (var w in _workers)
        {
            var c = pump(w).Counters;
            p += Volatile.Read(ref c.Packets);
            b += Volatile.Read(ref c.Bytes);
        }
        return new TrafficCounters(p, b);
    }

    /// <summary>The first worker failure, if a worker thread ended on an unexpected error.</summary>
    public Exception? Failure => _workers.Select(w => w.Failure).FirstOrDefault(f => f != null);

    /// <summary>Stops the threads (eventfd), then closes the sockets and the TUN device; a new tunnel can start at once.</summary>
    public unsafe void Dispose()
    {
        lock (_updateLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        foreach (var w in _workers) w.RequestStop();
        ulong one = 1;
        LibC.write(_stopFd, &one, sizeof(ulong));
        // The anchor first: once it has ended it starts no queue thread any more, so the others' threads are final.
        bool allStopped = true;
        foreach (var w in _workers) allStopped &= w.Join(TimeSpan.FromSeconds(5));
        foreach (var s in _sockets) LibC.close(s);
        _tun.Dispose();
        LibC.close(_stopFd);
        LibC.close(_rewatchFd);
        // A thread that did not stop might still touch its buffers: leak them rather than risk a use-after-free.
        if (allStopped)
        {
            foreach (var w in _workers)
            {
                w.Outbound.Dispose();
                w.Inbound.Dispose();
            }
        }
    }
}
