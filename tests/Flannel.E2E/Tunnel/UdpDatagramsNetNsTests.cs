using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Tunnel;

/// <summary>Small UDP datagrams pod to pod over our tunnel: the receive side coalesces them into UDP GSO writes.</summary>
public class UdpDatagramsNetNsTests
{
    private const int Port = 5302;
    private const int Flows = 2;
    private const int PerFlow = 5_000;
    private const int Burst = 32;
    // In flight at most Window + one round of bursts (160): the receiver's default buffer holds ~250 such datagrams.
    private const int Window = 96;
    private const int Size = 64;

    /// <summary>Payload of datagram <paramref name="seq"/> of <paramref name="flow"/>: flow, sequence number, then a pattern.</summary>
    private static void Fill(Span<byte> p, int flow, int seq)
    {
        p[0] = (byte)flow;
        BinaryPrimitives.WriteInt32BigEndian(p[1..], seq);
        for (int i = 5; i < p.Length; i++) p[i] = (byte)(seq * 31 + i * 7 + flow);
    }

    [Fact]
    public async Task Ten_thousand_64_byte_datagrams_arrive_complete_in_order_and_are_coalesced()
    {
        using var t = new OverlayTopology();
        // Resolve the neighbours on both paths first: a burst to an unresolved neighbour overflows its small queue.
        var (code, stdout, stderr) = t.PodNs1.TryExec($"ping -c 2 -i 0.2 -W 2 {OverlayTopology.Pod2}");
        Assert.True(code == 0, $"ping failed: {stdout} {stderr}");
        using var pod1 = new NetNsThread(t.PodNs1);
        using var pod2 = new NetNsThread(t.PodNs2);
        using var server = pod2.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, Port));
            s.ReceiveTimeout = 1000;
            return s;
        });
        // Connected sockets, one per flow: Linux numbers their IP ids one by one, as a connected sender does.
        var clients = Enumerable.Range(0, Flows).Select(_ => pod1.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Connect(new IPEndPoint(IPAddress.Parse(OverlayTopology.Pod2), Port));
            return s;
        })).ToList();

        try
        {
            await SendAndCheck(t, server, clients);
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    private static async Task SendAndCheck(OverlayTopology t, Socket server, List<Socket> clients)
    {
        long received = 0;
        var errors = new List<string>();
        var receiver = Task.Run(() =>
        {
            var next = new int[Flows];
            var buf = new byte[2048];
            var expected = new byte[Size];
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Volatile.Read(ref received) < Flows * PerFlow && DateTime.UtcNow < deadline)
            {
                int n;
                try { n = server.Receive(buf); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut) { continue; }
                int flow = buf[0], seq = BinaryPrimitives.ReadInt32BigEndian(buf.AsSpan(1));
                if (n != Size || flow >= Flows) { errors.Add($"datagram of {n} bytes, flow {flow}"); break; }
                if (seq != next[flow]) { errors.Add($"flow {flow}: got {seq}, expected {next[flow]}"); break; }
                Fill(expected, flow, seq);
                if (!buf.AsSpan(0, n).SequenceEqual(expected)) { errors.Add($"flow {flow} datagram {seq}: contents differ"); break; }
                next[flow]++;
                Interlocked.Increment(ref received);
            }
        });

        var payload = new byte[Size];
        long sent = 0;
        for (int start = 0; start < PerFlow; start += Burst)
        {
            for (int f = 0; f < Flows; f++)
            {
                for (int seq = start; seq < Math.Min(start + Burst, PerFlow); seq++)
                {
                    Fill(payload, f, seq);
                    clients[f].Send(payload);
                    sent++;
                }
            }
            var waitUntil = DateTime.UtcNow.AddSeconds(10);
            while (sent - Volatile.Read(ref received) > Window && DateTime.UtcNow < waitUntil && !receiver.IsCompleted) Thread.Sleep(1);
        }
        await receiver.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Empty(errors);
        Assert.Equal(Flows * PerFlow, Volatile.Read(ref received));

        // The receiving tunnel (host 2) wrote most of them as UDP GSO super-packets.
        var stats = t.WaitForStats(2, s => s.GetProperty("udpToTun").GetProperty("packets").GetInt64() >= Flows * PerFlow, TimeSpan.FromSeconds(5));
        Assert.True(Coalescing(stats, "udpSuperPackets") > 0, stats.ToString());
        // Bursts of 32 per flow: most datagrams travel in super-packets (a quarter is a loose floor for a busy machine).
        Assert.True(Coalescing(stats, "udpSegments") >= Flows * PerFlow / 4, stats.ToString());
        Assert.Equal(0, Coalescing(stats, "udpGsoRefused"));
        Assert.Equal(0, stats.GetProperty("drops").GetProperty("TunWriteFailed").GetInt64());
        Assert.Equal(JsonValueKind.Null, stats.GetProperty("failure").ValueKind);
    }

    private static long Coalescing(JsonElement stats, string name) => stats.GetProperty("coalescing").GetProperty(name).GetInt64();
}
