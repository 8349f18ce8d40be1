using System.Net;
using Flannel.Net.Netlink;
using Flannel.Net.Tunnel;

namespace Flannel.Net.Backends;

/// <summary>Everything a backend needs besides net-conf's Backend object and the external interface.</summary>
public sealed record BackendOptions
{
    /// <summary>
    /// rtnetlink client to use; null makes the backend open its own in the calling thread's network namespace
    /// (and dispose it with the backend).
    /// </summary>
    public RtNetlink? Netlink { get; init; }

    /// <summary>vxlan: the VTEP MAC to keep across restarts (from our previous lease); null picks a random local one.</summary>
    public MacAddress? VtepMac { get; init; }

    /// <summary>
    /// Run <see cref="StaleStateCleaner"/> in Configure (once the network is known): other flannel devices, our routes of
    /// another network, Go flannel's host-gw routes. On by default; tests of one backend in isolation may turn it off.
    /// </summary>
    public bool CleanStaleState { get; init; } = true;

    /// <summary>udp: the TUN device name (flannel's "flannel0").</summary>
    public string TunName { get; init; } = UdpTunnelOptions.DefaultTunName;

    /// <summary>udp: adjusts the tunnel options before start (queues, offloads); null keeps the defaults.</summary>
    public Func<UdpTunnelOptions, UdpTunnelOptions>? TunnelOptions { get; init; }

    /// <summary>udp: which data path carries the packets (<c>--udp-datapath</c>); the TUN tunnel runs in every mode as the fallback.</summary>
    public UdpDatapathMode UdpDatapath { get; init; } = UdpDatapathMode.Auto;

    /// <summary>udp: starts the data path; replaceable so the kernel side can be tested without the tunnel.</summary>
    public Func<UdpTunnelOptions, IUdpDataPath>? StartDataPath { get; init; }
}

/// <summary>
/// <c>--udp-datapath</c>: <see cref="Bpf"/> = TC-BPF programs carry flannel's format in the kernel, what they cannot handle
/// falls through to the TUN tunnel (a load failure is an error); <see cref="Tun"/> = the user-space tunnel only;
/// <see cref="Auto"/> = BPF when the programs load, the TUN path otherwise.
/// </summary>
public enum UdpDatapathMode
{
    Auto,
    Bpf,
    Tun,
}

/// <summary>The part of the udp data path the backend drives (implemented by <see cref="UdpTunnel"/> through an adapter).</summary>
public interface IUdpDataPath : IDisposable
{
    void UpdatePeers(IReadOnlyCollection<PeerLease> peers);

    /// <summary>This node's lease moved: the inner destination check and the ICMP source follow it.</summary>
    void SetLease(IPNetwork lease);
}

/// <summary>
/// Adapts <see cref="UdpTunnel"/> to <see cref="IUdpDataPath"/>, with the BPF path in front of it when one is attached
/// (<see cref="Bpf"/>): both get the same peers and lease; the BPF path goes first on dispose.
/// </summary>
public sealed class UdpTunnelDataPath(UdpTunnel tunnel) : IUdpDataPath
{
    public UdpTunnel Tunnel { get; } = tunnel;

    /// <summary>The TC-BPF path, null when the TUN tunnel carries everything.</summary>
    public Bpf.BpfUdpPath? Bpf { get; set; }

    public static IUdpDataPath Start(UdpTunnelOptions options) => new UdpTunnelDataPath(UdpTunnel.Start(options));

    public void UpdatePeers(IReadOnlyCollection<PeerLease> peers)
    {
        Tunnel.UpdatePeers(peers);
        Bpf?.UpdatePeers(peers);
    }

    public void SetLease(IPNetwork lease)
    {
        Tunnel.SetLocalSubnet(lease, lease.BaseAddress);
        Bpf?.SetLease(lease);
    }

    /// <summary>The tunnel's counters with the BPF path's beside them.</summary>
    public TunnelCounters Snapshot() => Tunnel.Snapshot() with { Bpf = Bpf?.Counters() };

    public void Dispose()
    {
        Bpf?.Dispose();
        Bpf = null;
        Tunnel.Dispose();
    }
}
