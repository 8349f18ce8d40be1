using Flannel.Net.Bpf;
using Flannel.Net.Config;
using Flannel.Net.Interfaces;
using Flannel.Net.Netlink;
using Flannel.Net.Tunnel;

namespace Flannel.Net.Backends;

/// <summary>
/// flannel's udp backend, kernel side plus the data path it owns: the <see cref="UdpTunnel"/> (TUN flannel0 and UDP
/// sockets on the interface address) starts once the lease is known (its address is the source of ICMP errors); flannel0
/// gets MTU underlay - 28, lease IP/32, route Network dev flannel0, up. Peers of type udp are pushed to the tunnel.
/// </summary>
public sealed class UdpBackend : KernelBackend
{
    /// <summary>Outer IPv4 20 + UDP 8: the inner packet is the whole payload.</summary>
    public const int Overhead = 28;

    private readonly UdpBackendConfig _config;
    private IUdpDataPath? _dataPath;
    private int? _tunIndex;

    public UdpBackend(UdpBackendConfig config, ExternalInterface iface, BackendOptions options) : base(iface, options)
    {
        if (config.Port is < 1 or > 65535) throw new ArgumentException($"udp: Port {config.Port} must be 1..65535");
        _config = config;
        Mtu = iface.Mtu - Overhead;
    }

    public override string Type => BackendConfig.Udp;

    public override string DeviceName => Options.TunName;

    /// <summary>The running data path (null before <see cref="Configure"/> and after <see cref="Teardown"/>).</summary>
    public IUdpDataPath? DataPath => _dataPath;

    /// <summary>"bpf" or "tun": which path carries the packets, decided in <see cref="Prepare"/>.</summary>
    public string Datapath { get; private set; } = "tun";

    /// <summary>Why <see cref="Datapath"/> was chosen (for the log, <c>/status</c> and <c>ctl backend show</c>).</summary>
    public string DatapathReason { get; private set; } = "udp-datapath tun";

    public override void Prepare()
    {
        if (Mtu < 68) throw new InvalidOperationException($"udp: interface {Interface.Name} MTU {Interface.Mtu} leaves {Mtu} for the tunnel");
        ChooseDatapath();
    }

    /// <summary>
    /// Decided before the lease because the lease advertises it: peers send kernel-encapsulated packets (inner checksums
    /// possibly partial, GSO super-packets) only to a node that decapsulates them in BPF.
    /// </summary>
    private void ChooseDatapath()
    {
        var mode = Options.UdpDatapath;
        if (mode == UdpDatapathMode.Tun || (Options.StartDataPath is not null && mode == UdpDatapathMode.Auto))
        {
            (Datapath, DatapathReason, LeaseData) = ("tun", Options.StartDataPath is null ? "udp-datapath tun" : "test data path", null);
            return;
        }
        try
        {
            BpfUdpPath.CheckLoads();
            (Datapath, DatapathReason, LeaseData) = ("bpf", $"udp-datapath {mode.ToString().ToLowerInvariant()}: TC-BPF programs loaded", UdpLeaseData.Bpf);
        }
        catch (Exception e) when (e is BpfException or InvalidOperationException or InvalidDataException)
        {
            if (mode == UdpDatapathMode.Bpf) throw new InvalidOperationException($"udp: --udp-datapath bpf: {e.Message}", e);
            (Datapath, DatapathReason, LeaseData) = ("tun", $"udp-datapath auto: BPF unavailable ({e.Message.Split('\n')[0]}), TUN path", null);
        }
    }

    protected override void ConfigureKernel()
    {
        if (_dataPath is null)
        {
            var options = new UdpTunnelOptions(DeviceName, Interface.Address, _config.Port, Mtu, TunAddress: Lease!.Value.BaseAddress,
                LocalSubnet: Lease.Value);
            if (Options.TunnelOptions is { } adjust) options = adjust(options);
            _dataPath = (Options.StartDataPath ?? UdpTunnelDataPath.Start)(options);
        }
        else
        {
            // A new lease on a running tunnel: inner destinations are checked against it from now on.
            _dataPath.SetLease(Lease!.Value);
        }
        var link = Netlink.GetLink(DeviceName)
                   ?? throw new InvalidOperationException($"udp: TUN device {DeviceName} does not exist after starting the tunnel");
        _tunIndex = link.Index;
        if (link.Mtu != Mtu) Netlink.SetLinkMtu(link.Index, Mtu);
        EnsureSoleAddress(link.Index, new AddressInfo(link.Index, Lease!.Value.BaseAddress, 32));
        if (!link.IsUp) Netlink.SetLinkUp(link.Index);
        Netlink.ReplaceRoute(NetworkRoute(link.Index));
        if (Datapath == "bpf" && _dataPath is UdpTunnelDataPath { Bpf: null } tunnel)
            tunnel.Bpf = BpfUdpPath.Load(Interface.Index, link.Index, Interface.Address, _config.Port, Lease.Value);
    }

    private RouteInfo NetworkRoute(int index) => new(Network!.Value, null, index);

    private static bool IsUdpPeer(PeerLease p) => p.BackendType == BackendConfig.Udp;

    protected override void ReconcileKernel(IReadOnlyCollection<PeerLease> peers, ReconcileRecorder recorder)
    {
        var link = Netlink.GetLink(DeviceName);
        if (link is null)
        {
            recorder.Error($"udp: TUN device {DeviceName} is gone; the tunnel must be restarted");
            return;
        }
        _tunIndex = link.Index;
        if (link.Mtu != Mtu) recorder.Fix(ReconcileKind.Link, null, $"device {DeviceName} mtu {link.Mtu} -> {Mtu}", () => Netlink.SetLinkMtu(link.Index, Mtu));
        EnsureSoleAddress(link.Index, new AddressInfo(link.Index, Lease!.Value.BaseAddress, 32), recorder);
        if (!link.IsUp) recorder.Fix(ReconcileKind.Link, null, $"device {DeviceName} down", () => Netlink.SetLinkUp(link.Index));
        ApplyRoutes(PlanRoutes([NetworkRoute(link.Index)]), recorder);
        _dataPath?.UpdatePeers(peers.Where(p => IsUdpPeer(p) && Refusal(p) is null).ToList());
    }

    protected override IReadOnlyList<PeerRouteStatus> InspectKernel(IReadOnlyCollection<PeerLease> peers)
    {
        var link = Netlink.GetLink(DeviceName);
        var routes = Netlink.GetRoutes().ToLookup(r => r.Destination);
        var networkRoute = NetworkRoute(link?.Index ?? _tunIndex ?? 0);
        return peers.Select(p =>
        {
            if (Refusal(p) is { } refused) return Ignored(p, refused);
            if (!IsUdpPeer(p)) return Ignored(p, $"backend type '{p.BackendType}'");
            var drift = new List<string>();
            if (link is null) drift.Add($"device {DeviceName} missing");
            if (_dataPath is null) drift.Add("tunnel not running");
            var actual = CheckRoute(networkRoute, routes, drift);
            if (Datapath == "bpf" && _dataPath is UdpTunnelDataPath { Bpf: null }) drift.Add("bpf programs not attached");
            var via = Datapath == "bpf" && UdpLeaseData.DecapsInBpf(p.BackendData) ? "bpf" : "tun";
            return Status(p, $"{Describe(networkRoute)}; udp to {p.PublicIp}:{_config.Port} ({via})", actual, drift);
        }).ToList();
    }

    protected override void TeardownKernel()
    {
        if (Network is not null)
            foreach (var r in Netlink.GetRoutes().Where(IsOwnedRoute)) Netlink.DeleteRoute(r);
        _dataPath?.Dispose();
        _dataPath = null;
        // A TUN disappears with its last descriptor; one left persistent by someone else is removed explicitly.
        if (Netlink.GetLink(DeviceName) is { } link) Netlink.DeleteLink(link.Index);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _dataPath?.Dispose();
            _dataPath = null;
        }
        base.Dispose(disposing);
    }
}
