using Flannel.Demo;
using System.Net;
using System.Net.Sockets;

namespace Flannel.E2E.Agent;

/// <summary>Random datagrams (not IPv4 packets) from inside a namespace, as an attacker or a broken peer would send.</summary>
public static class TunnelNoise
{
    public static int Send(string ns, IPEndPoint target, int count)
    {
        using var thread = new NamespaceThread(ns);
        using var socket = thread.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        var rng = new Random(4711);
        var sent = 0;
        for (var i = 0; i < count; i++)
        {
            var datagram = new byte[rng.Next(1, 200)];
            rng.NextBytes(datagram);
            // First nibble not 4: never a valid IPv4 header, whatever else the bytes say.
            datagram[0] = (byte)((datagram[0] & 0x0F) | 0x70);
            sent += socket.SendTo(datagram, target) == datagram.Length ? 1 : 0;
        }
        return sent;
    }
}
