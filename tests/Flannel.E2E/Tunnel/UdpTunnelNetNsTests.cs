using Flannel.Demo;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Tunnel;

/// <summary>Our udp tunnel between two hosts in network namespaces, pod to pod.</summary>
public class UdpTunnelNetNsTests
{
    private static void Ping(Netns from, string to)
    {
        var (code, stdout, stderr) = from.TryExec($"ping -c 3 -i 0.2 -W 2 {to}");
        Assert.True(code == 0, $"ping {to} from {from.Name} failed: {stdout} {stderr}");
        Assert.Contains("3 received", stdout);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Pods_ping_both_ways_and_100_MB_arrive_byte_identical(bool offload)
    {
        using var t = new OverlayTopology(offload);
        Ping(t.PodNs1, OverlayTopology.Pod2);
        Ping(t.PodNs2, OverlayTopology.Pod1);

        var (sent, received) = TransferTcp(t, 100 << 20);
        Assert.Equal(sent.Bytes, received.Bytes);
        Assert.Equal(Convert.ToHexString(sent.Sha256), Convert.ToHexString(received.Sha256));

        // The counters file is rewritten every 500 ms and the transfer can be over in less: wait for the snapshot.
        var s1 = t.WaitForStats(1, s => s.GetProperty("tunToUdp").GetProperty("bytes").GetInt64() > 100_000_000, TimeSpan.FromSeconds(5));
        Assert.Equal(offload, s1.GetProperty("tunOffload").GetBoolean());
        Assert.True(s1.GetProperty("tunToUdp").GetProperty("bytes").GetInt64() > 100_000_000, s1.ToString());
        Assert.Equal(JsonNull, s1.GetProperty("failure").ValueKind);
    }

    private const System.Text.Json.JsonValueKind JsonNull = System.Text.Json.JsonValueKind.Null;

    [Fact]
    public void Unknown_destination_gets_net_unreachable_from_the_tunnel()
    {
        using var t = new OverlayTopology();
        using var pod1 = new NamespaceThread(t.PodNs1);
        // A TCP SYN (ICMP itself is never answered): the tunnel's net-unreachable fails the connect at once.
        var error = pod1.Run(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var connect = s.BeginConnect(new IPEndPoint(IPAddress.Parse("10.78.9.9"), 80), null, null);
            if (!connect.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10))) return SocketError.TimedOut;
            try { s.EndConnect(connect); return SocketError.Success; }
            catch (SocketException e) { return e.SocketErrorCode; }
        });
        Assert.Equal(SocketError.NetworkUnreachable, error);
        var stats = t.WaitForStats(1, s => s.GetProperty("drops").GetProperty("NoRoute").GetInt64() >= 1, TimeSpan.FromSeconds(5));
        Assert.True(stats.GetProperty("drops").GetProperty("NoRoute").GetInt64() >= 1, stats.ToString());
    }

    [Fact]
    public void Datagram_from_a_stranger_is_dropped_and_counted()
    {
        using var t = new OverlayTopology();
        t.Host2.Exec($"ip addr add {OverlayTopology.Stranger}/24 dev u2");
        using (var inHost2 = new NamespaceThread(t.Host2))
        {
            inHost2.Run(() =>
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                s.Bind(new IPEndPoint(IPAddress.Parse(OverlayTopology.Stranger), 0));
                s.SendTo(InnerUdp(OverlayTopology.Pod2, OverlayTopology.Pod1, 9), new IPEndPoint(IPAddress.Parse(OverlayTopology.Underlay1), 8285));
            });
        }
        var stats = t.WaitForStats(1, s => s.GetProperty("drops").GetProperty("Stranger").GetInt64() >= 1, TimeSpan.FromSeconds(5));
        Assert.Equal(1, stats.GetProperty("drops").GetProperty("Stranger").GetInt64());
        Assert.Equal(0, stats.GetProperty("udpToTun").GetProperty("packets").GetInt64());
    }

    [Fact]
    public void Hundred_thousand_random_datagrams_leave_the_tunnel_working()
    {
        using var t = new OverlayTopology();
        t.Host2.Exec($"ip addr add {OverlayTopology.Stranger}/24 dev u2");
        const int Count = 100_000;
        using (var inHost2 = new NamespaceThread(t.Host2))
        {
            inHost2.Run(() =>
            {
                // Half from the peer's address (they reach the parser), half from a stranger; random bytes, IPv4-looking
                // headers with random fields, and truncated ones.
                using var fromPeer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                fromPeer.Bind(new IPEndPoint(IPAddress.Parse(OverlayTopology.Underlay2), 0));
                using var fromStranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                fromStranger.Bind(new IPEndPoint(IPAddress.Parse(OverlayTopology.Stranger), 0));
                var target = new IPEndPoint(IPAddress.Parse(OverlayTopology.Underlay1), 8285);
                var rnd = new Random(7);
                var buf = new byte[1500];
                for (int i = 0; i < Count; i++)
                {
                    int len = rnd.Next(0, 1473);
                    rnd.NextBytes(buf.AsSpan(0, len));
                    if (i % 3 == 0 && len >= 20) buf[0] = (byte)(0x45 + rnd.Next(0, 11));
                    (i % 2 == 0 ? fromPeer : fromStranger).SendTo(buf.AsSpan(0, len), SocketFlags.None, target);
                    if (i % 1000 == 999) Thread.Sleep(1); // let the receiver keep up instead of measuring socket buffer overflow
                }
            });
        }
        var stats = t.WaitForStats(1, s => s.GetProperty("drops").GetProperty("Stranger").GetInt64() >= Count / 2 - 500, TimeSpan.FromSeconds(30));
        var drops = stats.GetProperty("drops");
        Assert.True(drops.GetProperty("Stranger").GetInt64() >= Count / 2 - 500, stats.ToString());
        long parsedDrops = drops.GetProperty("Truncated").GetInt64() + drops.GetProperty("NotIpv4").GetInt64() + drops.GetProperty("Malformed").GetInt64();
        Assert.True(parsedDrops >= Count / 2 - 500, stats.ToString());
        Assert.Equal(JsonNull, stats.GetProperty("failure").ValueKind);
        Ping(t.PodNs1, OverlayTopology.Pod2);
        Ping(t.PodNs2, OverlayTopology.Pod1);
    }

    private static byte[] InnerUdp(string src, string dst, ushort port) => TestDatagrams.Ipv4Udp(src, dst, port, port, new byte[4]);

    private sealed record Digest(long Bytes, byte[] Sha256);

    /// <summary>
    /// Streams <paramref name="total"/> pseudo-random bytes from pod 1 to pod 2 over TCP (sockets created inside the pod
    /// namespaces) and hashes what each side sent and received.
    /// </summary>
    private static (Digest Sent, Digest Received) TransferTcp(OverlayTopology t, long total)
    {
        using var pod1 = new NamespaceThread(t.PodNs1);
        using var pod2 = new NamespaceThread(t.PodNs2);
        using var listener = pod2.Run(() =>
        {
            var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            l.Bind(new IPEndPoint(IPAddress.Any, 5301));
            l.Listen(1);
            return l;
        });
        using var client = pod1.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        var receiver = Task.Run(() =>
        {
            using var conn = listener.Accept();
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var buf = new byte[1 << 16];
            long n = 0;
            int r;
            while ((r = conn.Receive(buf)) > 0) { hash.AppendData(buf, 0, r); n += r; }
            return new Digest(n, hash.GetHashAndReset());
        });
        client.Connect(new IPEndPoint(IPAddress.Parse(OverlayTopology.Pod2), 5301));
        using var sendHash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var rnd = new Random(42);
        var chunk = new byte[1 << 20];
        long sent = 0;
        while (sent < total)
        {
            int len = (int)Math.Min(chunk.Length, total - sent);
            rnd.NextBytes(chunk.AsSpan(0, len));
            client.Send(chunk.AsSpan(0, len));
            sendHash.AppendData(chunk, 0, len);
            sent += len;
        }
        client.Shutdown(SocketShutdown.Send);
        Assert.True(receiver.Wait(TimeSpan.FromSeconds(120)), "receiver did not see the end of the stream");
        return (new Digest(sent, sendHash.GetHashAndReset()), receiver.Result);
    }
}
