using System.Net;
using System.Net.Sockets;

namespace Flannel.Demo;

/// <summary>
/// HTTP from outside into a network namespace: every connection's socket is made on a thread inside it (see
/// <see cref="NamespaceThread"/>), then used from anywhere. The URI's host must be an IP address as seen in that namespace.
/// </summary>
public static class NamespaceHttp
{
    public static SocketsHttpHandler Handler(NamespaceThread ns) => new()
    {
        ConnectCallback = async (ctx, ct) =>
        {
            var socket = ns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(ctx.DnsEndPoint.Host), ctx.DnsEndPoint.Port), ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
        PooledConnectionLifetime = TimeSpan.FromSeconds(5),
    };
}
