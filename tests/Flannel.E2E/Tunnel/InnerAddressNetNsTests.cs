using Flannel.Demo;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Tunnel;

/// <summary>
/// Issue #11 T4: a known peer (or anyone spoofing its underlay address) cannot inject packets with a source outside its
/// subnet or a destination outside ours; before, flannel's behaviour, the tunnel wrote them to the TUN.
/// </summary>
public class InnerAddressNetNsTests
{
    private const ushort Port = 5307;

    [Fact]
    public void Spoofed_sources_and_foreign_destinations_are_dropped_by_reason_and_a_legit_datagram_arrives()
    {
        using var t = new OverlayTopology();
        using var pod2 = new NamespaceThread(t.PodNs2);
        using var listener = pod2.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, Port));
            s.ReceiveTimeout = 3000;
            return s;
        });
        // A host-network service on host 2: the target of an injected packet addressed to the host itself.
        using var host2 = new NamespaceThread(t.Host2);
        using var hostListener = host2.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, Port));
            return s;
        });

        // From host 1's underlay address: host 2's tunnel knows it as the owner of 10.78.1.0/24.
        using (var host1 = new NamespaceThread(t.Host1))
        {
            host1.Run(() =>
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                s.Bind(new IPEndPoint(IPAddress.Parse(OverlayTopology.Underlay1), 0));
                var tunnel2 = new IPEndPoint(IPAddress.Parse(OverlayTopology.Underlay2), 8285);
                s.SendTo(InnerUdp("10.78.9.9", OverlayTopology.Pod2, "spoofed source"), tunnel2);      // not host 1's subnet
                s.SendTo(InnerUdp("10.78.2.77", OverlayTopology.Pod2, "own subnet as source"), tunnel2); // host 2's own subnet
                s.SendTo(InnerUdp(OverlayTopology.Pod1, OverlayTopology.Underlay2, "foreign destination"), tunnel2); // not host 2's lease
                s.SendTo(InnerUdp(OverlayTopology.Pod1, OverlayTopology.Pod2, "legit"), tunnel2);
            });
        }

        var received = pod2.Run(() =>
        {
            var buf = new byte[2048];
            var n = listener.Receive(buf);
            return Encoding.ASCII.GetString(buf, 0, n);
        });
        Assert.Equal("legit", received);

        var stats = t.WaitForStats(2, s => Drops(s, "ForeignSource") >= 2 && Drops(s, "ForeignDestination") >= 1, TimeSpan.FromSeconds(5));
        Assert.Equal(2, Drops(stats, "ForeignSource"));
        Assert.Equal(1, Drops(stats, "ForeignDestination"));
        Assert.Equal(1, stats.GetProperty("udpToTun").GetProperty("packets").GetInt64());
        // Nothing else reached pod 2 (the spoofed ones would have been next in the socket).
        var more = pod2.Run(() =>
        {
            listener.ReceiveTimeout = 500;
            try { return listener.Receive(new byte[2048]); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut) { return 0; }
        });
        Assert.Equal(0, more);
        Assert.Equal(0, host2.Run(() => hostListener.Available));
    }

    private static long Drops(System.Text.Json.JsonElement stats, string reason) =>
        stats.GetProperty("drops").GetProperty(reason).GetInt64();

    private static byte[] InnerUdp(string src, string dst, string text) =>
        TestDatagrams.Ipv4Udp(src, dst, 40000, Port, Encoding.ASCII.GetBytes(text));
}
