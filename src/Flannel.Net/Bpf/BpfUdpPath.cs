using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using Flannel.Net.Backends;
using Flannel.Net.Native;
using Flannel.Net.Tunnel;

namespace Flannel.Net.Bpf;

/// <summary>
/// The udp backend's kernel data path (udp_encap.bpf.c): loads the two TC programs and their maps through bpf(2),
/// attaches them with TCX links (egress on the TUN, ingress on the underlay), and keeps the peer maps equal to the
/// peer table. Nothing is pinned: the programs stay attached only while this object holds the link descriptors, so
/// <see cref="Dispose"/> (or the process ending, even by SIGKILL) removes programs and maps.
/// </summary>
public sealed unsafe class BpfUdpPath : IDisposable
{
    public const string ObjectResource = "Flannel.Net.Bpf.udp_encap.bpf.o";
    private const uint PeerDecapsInBpf = 1;

    private readonly Dictionary<string, int> _maps;
    private readonly List<int> _fds = new();
    private readonly object _gate = new();
    private readonly Dictionary<(uint Net, int Len), (uint PublicIp, uint Flags)> _peers = new();
    private readonly HashSet<uint> _peerIps = new();
    private readonly int _cpus;
    private Config _config;
    private bool _disposed;

    [StructLayout(LayoutKind.Sequential)]
    private struct Config
    {
        public uint LocalIp, LeaseNet, LeaseMask, UnderlayIfindex, TunIfindex;
        public ushort Port, Ready;
        public uint Flags;
    }

    private const uint ConfigTcpGso = 1;

    private BpfUdpPath(Dictionary<string, int> maps, int cpus)
    {
        _maps = maps;
        _cpus = cpus;
        _fds.AddRange(maps.Values);
    }

    /// <summary>True when the build embedded the compiled programs (clang was present at build time).</summary>
    public static bool Built => typeof(BpfUdpPath).Assembly.GetManifestResourceInfo(ObjectResource) is not null;

    /// <summary>
    /// Loads and attaches the programs in the calling thread's network namespace. Throws <see cref="BpfException"/>
    /// (with the verifier's log for a refused program) or <see cref="InvalidOperationException"/> when not built.
    /// </summary>
    public static BpfUdpPath Load(int underlayIfindex, int tunIfindex, IPAddress localIp, int port, IPNetwork lease) =>
        Load(underlayIfindex, tunIfindex, localIp, port, lease, attach: true);

    /// <summary>
    /// Loads the maps and programs without attaching them and frees them again: whether this kernel takes them, decided
    /// before the lease (and so the TUN) exists. Throws as <see cref="Load(int,int,IPAddress,int,IPNetwork)"/>.
    /// </summary>
    public static void CheckLoads() =>
        Load(0, 0, IPAddress.Loopback, 8285, new IPNetwork(IPAddress.Parse("10.0.0.0"), 24), attach: false).Dispose();

    private static BpfUdpPath Load(int underlayIfindex, int tunIfindex, IPAddress localIp, int port, IPNetwork lease, bool attach)
    {
        using var stream = typeof(BpfUdpPath).Assembly.GetManifestResourceStream(ObjectResource)
                           ?? throw new InvalidOperationException("bpf: the programs were not built (clang was missing when Flannel.Net was built)");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        var obj = BpfObject.Parse(bytes);
        var maps = new Dictionary<string, int>();
        BpfUdpPath? path = null;
        try
        {
            foreach (var m in obj.Maps) maps[m.Name] = BpfSyscall.CreateMap("fl_" + m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags);
            path = new BpfUdpPath(maps, BpfSyscall.PossibleCpus());
            foreach (var need in new[] { "peers", "peer_ips", "config", "counters" })
                if (!maps.ContainsKey(need)) throw new InvalidDataException($"bpf object: map '{need}' missing");
            var configSpec = obj.Maps.First(m => m.Name == "config");
            if (configSpec.ValueSize != sizeof(Config))
                throw new InvalidDataException($"bpf object: map 'config' holds {configSpec.ValueSize} bytes, BpfUdpPath.Config {sizeof(Config)}");
            path._config = new Config
            {
                LocalIp = NetOrder(localIp), UnderlayIfindex = (uint)underlayIfindex, TunIfindex = (uint)tunIfindex,
                Port = (ushort)IPAddress.HostToNetworkOrder((short)port), Ready = 1,
            };
            path.SetLease(lease);
            int egress = path.LoadProgram(obj, "tc/egress", "flannel_udp_eg");
            int ingress = path.LoadProgram(obj, "tc/ingress", "flannel_udp_in");
            if (attach)
            {
                path._fds.Add(BpfSyscall.AttachTcx(egress, tunIfindex, BpfSyscall.AttachTcxEgress));
                path._fds.Add(BpfSyscall.AttachTcx(ingress, underlayIfindex, BpfSyscall.AttachTcxIngress));
            }
            return path;
        }
        catch
        {
            if (path is not null) path.Dispose();
            else foreach (var fd in maps.Values) LibC.close(fd);
            throw;
        }
    }

    private int LoadProgram(BpfObject obj, string section, string name)
    {
        var spec = obj.Programs.FirstOrDefault(p => p.Section == section)
                   ?? throw new InvalidDataException($"bpf object: program section '{section}' missing");
        var insns = (byte[])spec.Instructions.Clone();
        foreach (var (offset, map) in spec.MapRelocations)
        {
            insns[offset + 1] = (byte)((insns[offset + 1] & 0x0f) | (BpfSyscall.PseudoMapFd << 4));
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(insns.AsSpan(offset + 4), _maps[map]);
        }
        int fd = BpfSyscall.LoadProgram(name, BpfSyscall.ProgTypeSchedCls, insns, obj.License);
        _fds.Add(fd);
        return fd;
    }

    private static uint NetOrder(IPAddress a) => (uint)IPAddress.HostToNetworkOrder((int)PeerTable.ToHost(a));

    /// <summary>Inner destinations are accepted only inside <paramref name="lease"/> from now on.</summary>
    public void SetLease(IPNetwork lease)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            uint mask = Flannel.Net.Config.AddressMath.Mask4(lease.PrefixLength);
            _config.LeaseMask = (uint)IPAddress.HostToNetworkOrder((int)mask);
            _config.LeaseNet = (uint)IPAddress.HostToNetworkOrder((int)(PeerTable.ToHost(lease.BaseAddress) & mask));
            WriteConfig();
        }
    }

    /// <summary>
    /// Whether TCP super-packets (TSO/GSO) go through the kernel's encapsulation whole (UDP-tunnel GSO) instead of to
    /// the TUN path. Off by default: on kernel 6.18 the receiver's BPF decap cannot clear the tunnel GSO state
    /// (skb->encapsulation, SKB_GSO_UDP_TUNNEL; bpf_skb_adjust_room has no decap flag for it, vxlan's own decap clears
    /// both), so a super-packet that crossed a veth whole is segmented and checksummed in software by the pods' bridge:
    /// TCP 3.9-6.0 Gbit/s at 0.32-0.52 CPU-s per Gbit (whole machine) against 7.0-8.8 Gbit/s at 0.18-0.19 through the
    /// TUN path (bench/overlay/RESULTS.md, 2026-12-01). Turn it on where the receivers can clear that state.
    /// </summary>
    public bool TcpGsoInKernel
    {
        get { lock (_gate) return (_config.Flags & ConfigTcpGso) != 0; }
        set
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _config.Flags = value ? _config.Flags | ConfigTcpGso : _config.Flags & ~ConfigTcpGso;
                WriteConfig();
            }
        }
    }

    private void WriteConfig()
    {
        uint zero = 0;
        var c = _config;
        BpfSyscall.Update(_maps["config"], &zero, &c);
    }

    /// <summary>
    /// Makes the peer maps equal to <paramref name="peers"/> (IPv4 udp peers only). A peer whose lease says it decapsulates
    /// in BPF gets encapsulated packets from the kernel; the others (our TUN path, flannel's proxy) read the payload from a
    /// socket and get them from the user-space path, which completes offloaded checksums and segments.
    /// </summary>
    public void UpdatePeers(IEnumerable<PeerLease> peers)
    {
        var want = new Dictionary<(uint, int), (uint, uint)>();
        foreach (var p in peers)
        {
            if (!string.Equals(p.BackendType, "udp", StringComparison.OrdinalIgnoreCase)) continue;
            if (p.Subnet.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork ||
                p.PublicIp.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) continue;
            uint mask = Flannel.Net.Config.AddressMath.Mask4(p.Subnet.PrefixLength);
            var net = (uint)IPAddress.HostToNetworkOrder((int)(PeerTable.ToHost(p.Subnet.BaseAddress) & mask));
            want[(net, p.Subnet.PrefixLength)] = (NetOrder(p.PublicIp), UdpLeaseData.DecapsInBpf(p.BackendData) ? PeerDecapsInBpf : 0);
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int peersFd = _maps["peers"], ipsFd = _maps["peer_ips"];
            var key = stackalloc uint[2];
            var value = stackalloc uint[2];
            foreach (var gone in _peers.Keys.Where(k => !want.ContainsKey(k)).ToList())
            {
                key[0] = (uint)gone.Len;
                key[1] = gone.Net;
                BpfSyscall.Delete(peersFd, key);
                _peers.Remove(gone);
            }
            foreach (var (k, v) in want)
            {
                if (_peers.TryGetValue(k, out var have) && have == v) continue;
                key[0] = (uint)k.Item2;
                key[1] = k.Item1;
                value[0] = v.Item1;
                value[1] = v.Item2;
                BpfSyscall.Update(peersFd, key, value);
                _peers[k] = v;
            }
            var ips = want.Values.Select(v => v.Item1).ToHashSet();
            foreach (var ip in _peerIps.Where(ip => !ips.Contains(ip)).ToList())
            {
                uint ipKey = ip;
                BpfSyscall.Delete(ipsFd, &ipKey);
                _peerIps.Remove(ip);
            }
            foreach (var ip in ips.Where(ip => !_peerIps.Contains(ip)))
            {
                uint ipKey = ip, one = 1;
                BpfSyscall.Update(ipsFd, &ipKey, &one);
                _peerIps.Add(ip);
            }
        }
    }

    /// <summary>The counters now, summed over CPUs.</summary>
    public BpfCounters Counters()
    {
        var values = new Dictionary<BpfCounter, long>();
        var buffer = new ulong[_cpus];
        lock (_gate)
        {
            if (_disposed) return new BpfCounters(values);
            fixed (ulong* b = buffer)
            {
                foreach (var c in Enum.GetValues<BpfCounter>())
                {
                    uint key = (uint)c;
                    BpfSyscall.Lookup(_maps["counters"], &key, b);
                    long sum = 0;
                    for (int i = 0; i < _cpus; i++) sum += (long)b[i];
                    values[c] = sum;
                }
            }
        }
        return new BpfCounters(values);
    }

    /// <summary>Closes the links (detaching the programs), the programs and the maps; the kernel frees them with the last fd.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            for (int i = _fds.Count - 1; i >= 0; i--) LibC.close(_fds[i]);
            _fds.Clear();
        }
    }
}

/// <summary>The udp backend's lease data: <c>{"Datapath":"bpf"}</c> when the node decapsulates in BPF, else none (as flannel).</summary>
public static class UdpLeaseData
{
    public const string Bpf = "{\"Datapath\":\"bpf\"}";

    /// <summary>True when <paramref name="json"/> says the peer decapsulates in BPF (case-insensitive keys); false for anything else.</summary>
    public static bool DecapsInBpf(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return false;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object) return false;
            foreach (var p in doc.RootElement.EnumerateObject())
                if (p.Name.Equals("Datapath", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == System.Text.Json.JsonValueKind.String)
                    return string.Equals(p.Value.GetString(), "bpf", StringComparison.OrdinalIgnoreCase);
            return false;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
