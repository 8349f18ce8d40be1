using System.Text.Json;
using Flannel.Net.Tunnel;

namespace Flannel.TunnelHost;

/// <summary>One-line JSON of the tunnel's counters (addresses as strings, drops by reason name).</summary>
internal static class CountersJson
{
    public static string Format(string @event, UdpTunnel tunnel)
    {
        var c = tunnel.Snapshot();
        var doc = new Dictionary<string, object?>
        {
            ["event"] = @event,
            ["tun"] = tunnel.TunName,
            ["queues"] = c.Queues,
            ["runningQueues"] = tunnel.RunningQueues,
            ["tunOffload"] = tunnel.TunOffload,
            ["udpGso"] = tunnel.UdpGso,
            ["udpGro"] = tunnel.UdpGro,
            ["tunToUdp"] = new { packets = c.TunToUdp.Packets, bytes = c.TunToUdp.Bytes },
            ["udpToTun"] = new { packets = c.UdpToTun.Packets, bytes = c.UdpToTun.Bytes },
            ["coalescing"] = new
            {
                tcpSuperPackets = c.Coalescing.TcpSuperPackets,
                tcpSegments = c.Coalescing.TcpSegments,
                udpSuperPackets = c.Coalescing.UdpSuperPackets,
                udpSegments = c.Coalescing.UdpSegments,
                udpGsoRefused = c.Coalescing.UdpGsoRefused,
            },
            ["drops"] = c.Drops.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
            ["peers"] = c.Peers.Select(p => new
            {
                publicIp = p.PublicIp.ToString(),
                sentPackets = p.Sent.Packets,
                sentBytes = p.Sent.Bytes,
                receivedPackets = p.Received.Packets,
                receivedBytes = p.Received.Bytes,
            }).ToList(),
            ["gcCount"] = GC.CollectionCount(0),
            ["failure"] = tunnel.Failure?.Message,
        };
        return JsonSerializer.Serialize(doc);
    }
}
