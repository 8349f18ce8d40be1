using Flannel.Demo;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Tunnel;

/// <summary>
/// Idle queues of the udp tunnel: only the first queue has a thread until traffic reaches another queue, whose thread
/// then starts, moves the packets and ends again after the idle period; a packet that arrives while a queue is
/// dormant is delivered, not lost.
/// </summary>
[Collection(UdpDatagramsCollection.Name)]
public class UdpQueueIdleNetNsTests
{
    private const int Port = 5303;
    private const int Flows = 64;
    private const int IdleMs = 1500;

    [Fact]
    public void A_second_queue_runs_only_while_it_has_traffic_and_loses_nothing_when_woken()
    {
        using var t = new OverlayTopology(queues: 2, idleReleaseMs: IdleMs);
        // Only the first queue has a thread. (The kernel's own packets on flannel0 as it comes up, e.g. IPv6 router
        // solicitations, may start another queue for IdleMs.)
        WaitForOnlyTheFirstQueue(t, "at start");
        Assert.Equal(1, t.WaitForStats(1, s => s.GetProperty("runningQueues").GetInt32() == 1, TimeSpan.FromSeconds(5))
            .GetProperty("runningQueues").GetInt32());

        using var pod2 = new NamespaceThread(t.PodNs2);
        using var receiver = pod2.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse(OverlayTopology.Pod2), Port));
            s.ReceiveTimeout = 5000;
            return s;
        });
        using var pod1 = new NamespaceThread(t.PodNs1);

        for (int round = 0; round < 2; round++)
        {
            long sentBefore = t.Stats(1).GetProperty("tunToUdp").GetProperty("packets").GetInt64();
            // One datagram per flow (source port): the TUN spreads flows over its queues by their hash, so with 64 flows
            // both queues get some (all on one queue: 2 in 2^64).
            pod1.Run(() =>
            {
                for (int f = 0; f < Flows; f++)
                {
                    using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    s.Bind(new IPEndPoint(IPAddress.Parse(OverlayTopology.Pod1), 0));
                    s.SendTo(BitConverter.GetBytes(round * Flows + f), new IPEndPoint(IPAddress.Parse(OverlayTopology.Pod2), Port));
                }
            });
            // The second queue's thread starts for them (and lives IdleMs after its last packet).
            Poll.Until(() => QueueThreads(t.Tunnel1).Contains("flannel0 q1"), TimeSpan.FromMilliseconds(IdleMs - 200),
                () => $"round {round}: queue threads after sending: {string.Join(", ", QueueThreads(t.Tunnel1))}", 20);

            var seen = new HashSet<int>();
            var buf = new byte[64];
            while (seen.Count < Flows)
            {
                int n = receiver.Receive(buf); // throws on timeout: a datagram was lost
                Assert.Equal(4, n);
                Assert.True(seen.Add(BitConverter.ToInt32(buf) - round * Flows), $"round {round}: duplicate datagram");
            }
            Assert.Equal(Enumerable.Range(0, Flows), seen.Order());
            var stats = t.WaitForStats(1, s => s.GetProperty("tunToUdp").GetProperty("packets").GetInt64() >= sentBefore + Flows,
                TimeSpan.FromSeconds(5));
            Assert.Equal(JsonValueKind.Null, stats.GetProperty("failure").ValueKind);
            // Quiet again: the second queue's thread ends, the first stays.
            WaitForOnlyTheFirstQueue(t, $"round {round}, after {IdleMs} ms idle");
            t.WaitForStats(1, s => s.GetProperty("runningQueues").GetInt32() == 1, TimeSpan.FromSeconds(5));
        }
    }

    private static void WaitForOnlyTheFirstQueue(OverlayTopology t, string when) =>
        Poll.Until(() => QueueThreads(t.Tunnel1).SequenceEqual(["flannel0 q0"]), TimeSpan.FromSeconds(IdleMs / 1000.0 + 10),
            () => $"{when}: queue threads {string.Join(", ", QueueThreads(t.Tunnel1))}");

    /// <summary>The names of the tunnel host's queue threads ("flannel0 qN"), sorted.</summary>
    private static List<string> QueueThreads(System.Diagnostics.Process tunnel) =>
        Directory.GetDirectories($"/proc/{tunnel.Id}/task")
            .Select(task => { try { return File.ReadAllText(Path.Combine(task, "comm")).Trim(); } catch (IOException) { return ""; } })
            .Where(name => name.StartsWith("flannel0 q", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
}
