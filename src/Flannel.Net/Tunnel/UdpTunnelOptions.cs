using System.Net;
using System.Net.Sockets;

namespace Flannel.Net.Tunnel;

/// <summary>
/// How to run a <see cref="UdpTunnel"/>.
/// </summary>
/// <param name="TunName">TUN device to create or attach to (flannel's is "flannel0").</param>
/// <param name="LocalAddress">Public (underlay) IPv4 address the UDP socket binds to; <see cref="IPAddress.Any"/> binds all.</param>
/// <param name="Port">UDP port, flannel's default 8285.</param>
/// <param name="Mtu">Tunnel MTU (flannel: underlay MTU - 28). Every datagram carries one inner packet of at most this size.</param>
/// <param name="Queues">TUN queues and UDP sockets, each served by its own threads; 0 picks min(cores, 4).</param>
/// <param name="Offload">Use TSO/GSO/GRO offloads when the kernel supports them (falls back to the plain path otherwise).</param>
/// <param name="CheckInnerAddresses">Deliver only inner packets whose source is inside the sending peer's subnets and
/// whose destination is inside <paramref name="LocalSubnet"/>; the rest is dropped and counted (ForeignSource,
/// ForeignDestination). On by default: without it any peer, or anyone spoofing a peer's address, can inject packets
/// with any addresses into this host.</param>
/// <param name="TunAddress">Source address of ICMP net-unreachable replies (the TUN's address); null sends none.</param>
/// <param name="LocalSubnet">This node's lease (inner destinations must be inside it); null until known: with the check
/// on, nothing is delivered until <see cref="UdpTunnel.SetLocalSubnet"/> sets it.</param>
public sealed record UdpTunnelOptions(
    string TunName,
    IPAddress LocalAddress,
    int Port = UdpTunnelOptions.DefaultPort,
    int Mtu = UdpTunnelOptions.DefaultMtu,
    int Queues = 0,
    bool Offload = true,
    bool CheckInnerAddresses = true,
    IPAddress? TunAddress = null,
    IPNetwork? LocalSubnet = null)
{
    public const string DefaultTunName = "flannel0";
    public const int DefaultPort = 8285;
    public const int DefaultMtu = 1472;

    /// <summary>SO_RCVBUF/SO_SNDBUF of each socket (forced when running as root): GRO bursts overflow a few MB.</summary>
    public int SocketBufferBytes { get; init; } = 32 << 20;

    /// <summary>TUN transmit queue length: the TUN drops silently from a full ring, so the default 500 costs retransmits.</summary>
    public int TxQueueLength { get; init; } = 5000;

    /// <summary>
    /// How long a queue thread keeps polling after its last packet before it blocks. It can catch the answer to a packet
    /// just forwarded without a wake-up, but on a CPU-starved host it steals time from the pods: measured here (2 busy
    /// vCPUs) 100 us cost half the TCP throughput and tripled ping, so it is off by default.
    /// </summary>
    public TimeSpan Spin { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Nice value of the queue threads (-20..19); needs CAP_SYS_NICE (flanneld runs as root), ignored otherwise.
    /// 0 by default: a tunnel thread that outranks the pods only moves the drop point into the receiving pod's
    /// socket. Measured here (bench/overlay.sh, 64-byte UDP at 100k pps offered): nice -10 delivered 75k pps with
    /// 20 % loss, nice 0 86-98k pps with 2-14 %; TCP and ping did not change. A negative value helps only when
    /// unrelated processes compete for the CPUs.
    /// </summary>
    public int Nice { get; init; }

    /// <summary>
    /// How long a queue may go without a packet before it gives its packet buffers back (up to ~3 MiB per queue once a
    /// burst has written them: 32 x 64 KiB receive buffers, the 1 MiB send arena, the TUN read buffer) and, for every
    /// queue but the first, ends its thread until traffic comes back (QueueWorker). A burst after it pays one thread
    /// start and the page faults of the buffers it writes (~1-2 ms of CPU); at 2 s, an agent is back to its idle
    /// footprint a few seconds after traffic stops (bench/footprint.sh, rss_after_load_mib).
    /// </summary>
    public TimeSpan IdleRelease { get; init; } = TimeSpan.FromSeconds(2);

    public static UdpTunnelOptions Default(IPAddress localAddress) => new(DefaultTunName, localAddress);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(TunName) || TunName.Length > 15)
            throw new ArgumentException($"TunName '{TunName}' must be 1-15 characters", nameof(TunName));
        if (LocalAddress is null || LocalAddress.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"LocalAddress '{LocalAddress}' must be an IPv4 address", nameof(LocalAddress));
        if (Port is < 1 or > 65535) throw new ArgumentException($"Port {Port} must be 1-65535", nameof(Port));
        if (Mtu is < 68 or > 65507) throw new ArgumentException($"Mtu {Mtu} must be 68-65507", nameof(Mtu));
        if (Queues is < 0 or > 64) throw new ArgumentException($"Queues {Queues} must be 0-64", nameof(Queues));
        if (TunAddress is not null && TunAddress.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"TunAddress '{TunAddress}' must be an IPv4 address", nameof(TunAddress));
        if (LocalSubnet is { } subnet && subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"LocalSubnet '{subnet}' must be an IPv4 subnet", nameof(LocalSubnet));
        if (SocketBufferBytes < 0) throw new ArgumentException($"SocketBufferBytes {SocketBufferBytes} must be >= 0", nameof(SocketBufferBytes));
        if (Spin < TimeSpan.Zero || Spin > TimeSpan.FromSeconds(1)) throw new ArgumentException($"Spin {Spin} must be 0-1 s", nameof(Spin));
        if (Nice is < -20 or > 19) throw new ArgumentException($"Nice {Nice} must be -20..19", nameof(Nice));
        if (IdleRelease < TimeSpan.FromMilliseconds(1) || IdleRelease > TimeSpan.FromHours(1))
            throw new ArgumentException($"IdleRelease {IdleRelease} must be 1 ms - 1 h", nameof(IdleRelease));
        if (TxQueueLength < 0) throw new ArgumentException($"TxQueueLength {TxQueueLength} must be >= 0", nameof(TxQueueLength));
    }

    internal int EffectiveQueues => Queues > 0 ? Queues : Math.Clamp(Environment.ProcessorCount, 1, 4);
}
