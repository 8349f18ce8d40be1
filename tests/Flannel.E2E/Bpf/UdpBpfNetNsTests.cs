using System.Net;
using Flannel.E2E.Agent;
using Flannel.Demo;
using Flannel.E2E.Backends;
using Flannel.Net.Backends;
using Flannel.Net.Bpf;
using Flannel.Net.Config;
using Flannel.Net.Tunnel;
using Xunit;

namespace Flannel.E2E.Bpf;

/// <summary>
/// The udp backend's TC-BPF path between two namespace hosts (each with a pod), at the backend level: what the kernel
/// carries, what falls through to the TUN path, what is refused, and that nothing stays attached after teardown.
/// </summary>
public sealed class UdpBpfNetNsTests : IDisposable
{
    private readonly TwoHosts _net = new();
    private readonly List<IBackend> _backends = new();

    public void Dispose()
    {
        foreach (var b in _backends) b.Dispose();
        _net.Dispose();
    }

    private UdpBackend Start(TwoHosts.Host h, UdpDatapathMode mode)
    {
        var b = h.Thread.Run(() => (UdpBackend)BackendFactory.Create(new UdpBackendConfig(), h.Iface,
            new BackendOptions { TunnelOptions = o => o with { Queues = 1 }, UdpDatapath = mode }));
        _backends.Add(b);
        b.Prepare();
        h.Thread.Run(() => b.Configure(TwoHosts.Network, h.Lease));
        return b;
    }

    private static PeerLease Lease(TwoHosts.Host h, UdpBackend b) => new(h.Lease, h.Iface.PublicIp, "udp", b.LeaseData);

    private (UdpBackend B1, UdpBackend B2) Pair(UdpDatapathMode m1, UdpDatapathMode m2)
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var b1 = Start(h1, m1);
        var b2 = Start(h2, m2);
        var peers = new[] { Lease(h1, b1), Lease(h2, b2) };
        Assert.Empty(h1.Thread.Run(() => b1.Reconcile(peers)).Errors);
        Assert.Empty(h2.Thread.Run(() => b2.Reconcile(peers)).Errors);
        return (b1, b2);
    }

    private static TunnelCounters Counters(UdpBackend b) => ((UdpTunnelDataPath)b.DataPath!).Snapshot();

    private int Attached(TwoHosts.Host h, string device, uint hook) => h.Thread.Run(() =>
        BpfSyscall.QueryTcx(int.Parse(h.Ns.Exec($"cat /sys/class/net/{device}/ifindex").Trim()), hook));

    [Fact]
    public async Task Bpf_path_carries_pings_tcp_and_full_mtu_both_ways_and_detaches_on_teardown()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var (b1, b2) = Pair(UdpDatapathMode.Bpf, UdpDatapathMode.Bpf);
        Assert.Equal("bpf", b1.Datapath);
        Assert.Equal(UdpLeaseData.Bpf, b1.LeaseData);
        Assert.Equal(1, Attached(h1, "flannel0", BpfSyscall.AttachTcxEgress));
        Assert.Equal(1, Attached(h1, "eth0", BpfSyscall.AttachTcxIngress));

        Assert.True(TwoHosts.Ping(h1, h2.PodIp, 3), "pod 1 -> pod 2");
        Assert.True(TwoHosts.Ping(h2, h1.PodIp, 3), "pod 2 -> pod 1");
        // Full MTU with DF: 1472 - 28 bytes of ICMP payload, both ways; one byte more does not fit the tunnel.
        Assert.Equal(0, h1.Pod.TryExec($"ping -c 2 -i 0.2 -W 2 -M do -s 1444 {h2.PodIp}").ExitCode);
        Assert.Equal(0, h2.Pod.TryExec($"ping -c 2 -i 0.2 -W 2 -M do -s 1444 {h1.PodIp}").ExitCode);
        Assert.NotEqual(0, h1.Pod.TryExec($"ping -c 2 -i 0.2 -W 2 -M do -s 1445 {h2.PodIp}").ExitCode);
        var (sent, received, bytes) = await PodTcp.TransferAsync(h2.Pod.Name, h2.PodIp, h1.Pod.Name, 100 << 20, TimeSpan.FromSeconds(120));
        Assert.Equal(100 << 20, bytes);
        Assert.Equal(sent, received);

        var c1 = Counters(b1).Bpf!;
        var c2 = Counters(b2).Bpf!;
        // The kernel carried the plain packets (pings, ACKs) both ways. GSO super-packets went through the TUN path
        // (TcpGsoInKernel is off by default), whose UDP_SEGMENT batches cross the veth as one skb and are left to the socket.
        Assert.True(c1[BpfCounter.TxPackets] >= 5 && c2[BpfCounter.RxPackets] >= 5, $"bpf tx {c1[BpfCounter.TxPackets]} rx {c2[BpfCounter.RxPackets]}");
        Assert.True(c2[BpfCounter.TxPackets] >= 100, $"ACKs from host 2 in the kernel: {c2[BpfCounter.TxPackets]}");
        Assert.True(c1[BpfCounter.FallbackGso] > 0);
        Assert.True(c2[BpfCounter.PassDatagramBatch] > 0);

        var objects = BpfFootprint.Of(h1.Ns.Name);
        objects.AssertIsTheUdpPath();
        h1.Thread.Run(b1.Teardown);
        Assert.NotEqual(0, h1.Ns.TryExec("ip link show flannel0").ExitCode);
        Assert.Equal(0, Attached(h1, "eth0", BpfSyscall.AttachTcxIngress));
        // Nothing attached, pinned or held: the programs and maps themselves are gone from the kernel.
        await objects.AssertGoneAsync("host 1 after teardown");
    }

    [Fact]
    public async Task Bulk_tcp_without_gso_is_carried_by_the_kernel_100_mib_each_way_intact()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        // One segment per skb in the pods (gso_max_segs 1: TCP then sends MSS-sized packets without GSO): the programs,
        // not the TUN path's GSO fallback, must carry the whole stream.
        foreach (var h in new[] { h1, h2 }) h.Pod.Exec("ip link set dev eth0 gso_max_segs 1");
        var (b1, b2) = Pair(UdpDatapathMode.Bpf, UdpDatapathMode.Bpf);
        const int size = 100 << 20;
        foreach (var (server, client) in new[] { (h2, h1), (h1, h2) })
        {
            var (sent, received, bytes) = await PodTcp.TransferAsync(server.Pod.Name, server.PodIp, client.Pod.Name, size, TimeSpan.FromSeconds(180));
            Assert.Equal(size, bytes);
            Assert.Equal(sent, received);
        }
        var (c1, c2) = (Counters(b1), Counters(b2));
        foreach (var (name, c) in new[] { ("host 1", c1), ("host 2", c2) })
        {
            Assert.True(c.Bpf![BpfCounter.TxBytes] >= size, $"{name}: bpf encapsulated {c.Bpf[BpfCounter.TxBytes]} bytes");
            Assert.True(c.Bpf[BpfCounter.RxBytes] >= size, $"{name}: bpf decapsulated {c.Bpf[BpfCounter.RxBytes]} bytes");
            // The user-space path saw at most stray packets (the TUN's own router solicitations), not the stream.
            Assert.True(c.TunToUdp.Bytes < 1 << 20 && c.UdpToTun.Bytes < 1 << 20, $"{name}: TUN path tx {c.TunToUdp.Bytes} rx {c.UdpToTun.Bytes} bytes");
            Assert.Equal(0, c.Bpf[BpfCounter.FallbackGso]);
        }
    }

    [Fact]
    public async Task With_tcp_gso_in_the_kernel_a_100_MiB_stream_never_touches_the_tun_path()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var (b1, b2) = Pair(UdpDatapathMode.Bpf, UdpDatapathMode.Bpf);
        foreach (var b in new[] { b1, b2 }) ((UdpTunnelDataPath)b.DataPath!).Bpf!.TcpGsoInKernel = true;
        var (sent, received, bytes) = await PodTcp.TransferAsync(h2.Pod.Name, h2.PodIp, h1.Pod.Name, 100 << 20, TimeSpan.FromSeconds(120));
        Assert.Equal(100 << 20, bytes);
        Assert.Equal(sent, received);

        // TSO super-packets went through the encapsulation whole (UDP-tunnel GSO) and came out of the receiver's decap
        // with their MSS: the kernel carried the whole stream, the TUN path next to nothing. With the encap flags wrong
        // (GRE instead of UDP) every super-packet was freed in validate_xmit_skb and the transfer stalled.
        var (t1, t2) = (Counters(b1), Counters(b2));
        var (c1, c2) = (t1.Bpf!, t2.Bpf!);
        const long stream = 100 << 20;
        Assert.True(c1[BpfCounter.TxBytes] >= stream, $"bpf tx bytes on host 1: {c1[BpfCounter.TxBytes]}");
        Assert.True(c2[BpfCounter.RxBytes] >= stream, $"bpf rx bytes on host 2: {c2[BpfCounter.RxBytes]}");
        Assert.Equal(0, c1[BpfCounter.FallbackGso]);
        Assert.True(t1.TunToUdp.Bytes < stream / 100, $"TUN path sent {t1.TunToUdp.Bytes} bytes on host 1");
        Assert.True(t2.UdpToTun.Bytes < stream / 100, $"TUN path received {t2.UdpToTun.Bytes} bytes on host 2");
        Assert.True(c1[BpfCounter.RxPackets] >= 100, $"ACKs into host 1 in the kernel: {c1[BpfCounter.RxPackets]}");
    }

    [Fact]
    public void What_the_bpf_path_cannot_carry_falls_to_the_tun_path_which_answers_with_icmp()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var (b1, _) = Pair(UdpDatapathMode.Bpf, UdpDatapathMode.Bpf);

        // Unknown destination inside the network: net unreachable from the TUN path (a TCP SYN: ICMP is never answered).
        var error = ConnectError(h1, IPAddress.Parse("10.244.9.2"));
        Assert.Equal(System.Net.Sockets.SocketError.NetworkUnreachable, error);
        Assert.True(Counters(b1).Bpf![BpfCounter.FallbackNoPeer] >= 1);
        Assert.True(Counters(b1).Dropped(DropReason.NoRoute) >= 1);

        // TTL 1 expires at host 1's forwarding; TTL 3 expires at host 2's, whose ICMP comes back through the BPF path.
        Assert.Contains("Time to live exceeded", h1.Pod.TryExec($"ping -c 1 -W 2 -t 1 {h2.PodIp}").Stdout);
        var ttl3 = h1.Pod.TryExec($"ping -c 1 -W 2 -t 3 {h2.PodIp}");
        Assert.Contains("Time to live exceeded", ttl3.Stdout);
        Assert.Contains("10.244.2.", ttl3.Stdout);
        // TTL 2 would reach 0 on the tunnel hop: passed to the TUN path, which drops and counts it, as flannel does.
        h1.Pod.TryExec($"ping -c 1 -W 1 -t 2 {h2.PodIp}");
        Assert.True(Counters(b1).Bpf![BpfCounter.FallbackTtl] >= 1);
        Assert.True(Counters(b1).Dropped(DropReason.TtlExpired) >= 1);
    }

    [Fact]
    public async Task Strangers_and_noise_are_left_to_the_socket_and_counted_and_the_path_keeps_working()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var (b1, _) = Pair(UdpDatapathMode.Bpf, UdpDatapathMode.Bpf);

        // A stranger on the underlay (address not a peer) sends a valid-looking packet to pod 1.
        h2.Ns.Exec("ip addr add 192.168.90.9/24 dev eth0");
        SendFrom(h2, IPAddress.Parse("192.168.90.9"), h1.Iface.Address, TestPacket(IPAddress.Parse("10.244.2.2"), h1.PodIp));
        await Flannel.Testing.Poll.UntilAsync(() => Counters(b1).Dropped(DropReason.Stranger) >= 1, TimeSpan.FromSeconds(5),
            "the socket counted the stranger");
        Assert.Equal(1, Counters(b1).Bpf![BpfCounter.PassStranger]);

        // A peer forging an inner source outside its subnet: refused in the kernel.
        SendFrom(h2, h2.Iface.Address, h1.Iface.Address, TestPacket(IPAddress.Parse("10.244.7.2"), h1.PodIp));
        await Flannel.Testing.Poll.UntilAsync(() => Counters(b1).Bpf![BpfCounter.DropForeignSource] >= 1, TimeSpan.FromSeconds(5),
            "the kernel refused the forged inner source");

        // 10^5 random datagrams from the peer's own address, half of them starting like an IPv4 header.
        int sent = TunnelNoise.Send(h2.Ns.Name, new IPEndPoint(h1.Iface.Address, 8285), 100_000);
        Assert.True(sent > 90_000, $"sent {sent}");
        var before = Counters(b1).Bpf!;
        Assert.True(TwoHosts.Ping(h1, h2.PodIp, 3), "still working after the noise");
        Assert.True(TwoHosts.Ping(h2, h1.PodIp, 3), "still working after the noise (other way)");
        // ... and still in the kernel: the pings after the noise were encapsulated and decapsulated by the programs.
        var after = Counters(b1).Bpf!;
        Assert.True(after[BpfCounter.TxPackets] - before[BpfCounter.TxPackets] >= 6, $"bpf tx after the noise: {after[BpfCounter.TxPackets] - before[BpfCounter.TxPackets]}");
        Assert.True(after[BpfCounter.RxPackets] - before[BpfCounter.RxPackets] >= 6, $"bpf rx after the noise: {after[BpfCounter.RxPackets] - before[BpfCounter.RxPackets]}");
        Assert.True(after[BpfCounter.PassMalformed] > 0);
    }

    [Fact]
    public async Task Mixed_hosts_bpf_and_tun_reach_each_other_with_intact_tcp()
    {
        var (h1, h2) = (_net.Hosts[0], _net.Hosts[1]);
        var (b1, b2) = Pair(UdpDatapathMode.Bpf, UdpDatapathMode.Tun);
        Assert.Equal("tun", b2.Datapath);
        Assert.Null(b2.LeaseData);
        Assert.True(TwoHosts.Ping(h1, h2.PodIp, 3), "bpf host -> tun host");
        Assert.True(TwoHosts.Ping(h2, h1.PodIp, 3), "tun host -> bpf host");
        Assert.Equal(0, h2.Pod.TryExec($"ping -c 2 -i 0.2 -W 2 -M do -s 1444 {h1.PodIp}").ExitCode);
        foreach (var (server, client) in new[] { (h1, h2), (h2, h1) })
        {
            var (sent, received, bytes) = await PodTcp.TransferAsync(server.Pod.Name, server.PodIp, client.Pod.Name, 20 << 20, TimeSpan.FromSeconds(120));
            Assert.Equal(20 << 20, bytes);
            Assert.Equal(sent, received);
        }
        // Towards a socket receiver the BPF host hands packets to its TUN path; what comes in is decapsulated in the kernel.
        var c1 = Counters(b1).Bpf!;
        Assert.True(c1[BpfCounter.FallbackPeerSocket] > 0);
        Assert.True(c1[BpfCounter.RxPackets] > 0);
        Assert.Equal(0, c1[BpfCounter.TxPackets]);
    }

    private static System.Net.Sockets.SocketError ConnectError(TwoHosts.Host h, IPAddress to)
    {
        using var pod = new NamespaceThread(h.Pod);
        return pod.Run(() =>
        {
            using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
                System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            var connect = s.BeginConnect(new IPEndPoint(to, 80), null, null);
            if (!connect.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10))) return System.Net.Sockets.SocketError.TimedOut;
            try { s.EndConnect(connect); return System.Net.Sockets.SocketError.Success; }
            catch (System.Net.Sockets.SocketException e) { return e.SocketErrorCode; }
        });
    }

    private static void SendFrom(TwoHosts.Host h, IPAddress source, IPAddress to, byte[] payload) => h.Thread.Run(() =>
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new IPEndPoint(source, 0));
        socket.SendTo(payload, new IPEndPoint(to, 8285));
    });

    /// <summary>An ICMP echo request from <paramref name="src"/> to <paramref name="dst"/> (checksums valid).</summary>
    private static byte[] TestPacket(IPAddress src, IPAddress dst)
    {
        var p = new byte[28];
        p[0] = 0x45;
        p[3] = 28;
        p[8] = 64;
        p[9] = 1;
        src.GetAddressBytes().CopyTo(p, 12);
        dst.GetAddressBytes().CopyTo(p, 16);
        Flannel.Net.Packets.Ipv4.UpdateHeaderChecksum(p);
        p[20] = 8;
        uint sum = 0;
        for (int i = 20; i < 28; i += 2) sum += (uint)(p[i] << 8 | p[i + 1]);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        p[22] = (byte)(~sum >> 8);
        p[23] = (byte)~sum;
        return p;
    }
}
