using Flannel.Net.Tunnel;

namespace Flannel.Actors.Tunnel;

/// <summary>What the actor watches: the running udp data path (null before the backend is configured).</summary>
/// <param name="Failure">The first worker thread failure of the tunnel, null while healthy.</param>
/// <param name="Counters">The tunnel's counters now.</param>
public sealed record UdpTunnelProbe(Func<Exception?> Failure, Func<TunnelCounters?> Counters)
{
    /// <summary>Reads a running <see cref="UdpTunnel"/> through <paramref name="tunnel"/> (null while none runs).</summary>
    public static UdpTunnelProbe For(Func<UdpTunnel?> tunnel) =>
        new(() => tunnel()?.Failure, () => tunnel()?.Snapshot());

    /// <summary>As <see cref="For(Func{UdpTunnel?})"/>, with the counters read through <paramref name="counters"/> (the tunnel's plus the BPF path's).</summary>
    public static UdpTunnelProbe For(Func<UdpTunnel?> tunnel, Func<TunnelCounters?> counters) =>
        new(() => tunnel()?.Failure, counters);
}

/// <summary>Reply: <see cref="TunnelCountersReply"/>.</summary>
public sealed record GetTunnelCounters
{
    public static readonly GetTunnelCounters Instance = new();
}

public sealed record TunnelCountersReply(TunnelCounters? Counters);
