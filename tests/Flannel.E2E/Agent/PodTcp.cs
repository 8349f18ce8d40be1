using Flannel.Demo;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Flannel.E2E.Agent;

/// <summary>A TCP transfer between two pods with sockets opened inside their namespaces; returns both SHA-256 digests.</summary>
public static class PodTcp
{
    public static Task<(byte[] Sent, byte[] Received, int Bytes)> TransferAsync(Pod server, Pod client, int bytes, TimeSpan timeout) =>
        TransferAsync(server.Namespace, server.Address, client.Namespace, bytes, timeout);

    /// <summary>The same between any two namespaces: the server listens on <paramref name="serverAddress"/> in <paramref name="serverNamespace"/>.</summary>
    public static async Task<(byte[] Sent, byte[] Received, int Bytes)> TransferAsync(
        string serverNamespace, IPAddress serverAddress, string clientNamespace, int bytes, TimeSpan timeout)
    {
        using var serverNs = new NamespaceThread(serverNamespace);
        using var clientNs = new NamespaceThread(clientNamespace);
        using var listener = serverNs.Run(() =>
        {
            var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            l.Bind(new IPEndPoint(serverAddress, 0));
            l.Listen(1);
            return l;
        });
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var cts = new CancellationTokenSource(timeout);

        var receive = Task.Run(async () =>
        {
            using var conn = await listener.AcceptAsync(cts.Token);
            using var sha = SHA256.Create();
            var buffer = new byte[64 * 1024];
            var total = 0;
            int n;
            while ((n = await conn.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                sha.TransformBlock(buffer, 0, n, null, 0);
                total += n;
            }
            sha.TransformFinalBlock([], 0, 0);
            return (sha.Hash!, total);
        });

        var data = new byte[bytes];
        Random.Shared.NextBytes(data);
        using (var sock = clientNs.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)))
        {
            await sock.ConnectAsync(new IPEndPoint(serverAddress, port), cts.Token);
            var sent = 0;
            while (sent < data.Length)
                sent += await sock.SendAsync(data.AsMemory(sent), SocketFlags.None, cts.Token);
            sock.Shutdown(SocketShutdown.Send);
            var (hash, total) = await receive;
            return (SHA256.HashData(data), hash, total);
        }
    }
}
