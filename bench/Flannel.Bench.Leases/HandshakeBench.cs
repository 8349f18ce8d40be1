using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Flannel.Host.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Bench.Leases;

/// <summary>
/// The bare cost of one mutual-TLS handshake between two flannel credentials on loopback, with the agent's validator on
/// both ends (chain built against the cluster CA every time): what each new association between two nodes pays.
/// </summary>
public static class HandshakeBench
{
    public static async Task<double[]> MeasureAsync(ClusterTls server, ClusterTls client, int samples)
    {
        var serverCheck = ClusterTls.Callback(server.Validator, NullLogger.Instance, new RefusalThrottle(TimeSpan.FromMinutes(1)));
        var clientCheck = ClusterTls.Callback(client.Validator, NullLogger.Instance, new RefusalThrottle(TimeSpan.FromMinutes(1)));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var times = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            using var tcp = new TcpClient();
            var accept = listener.AcceptTcpClientAsync();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            using var accepted = await accept;
            await using var serverSsl = new SslStream(accepted.GetStream(), false,
                (_, c, ch, e) => serverCheck(c as System.Security.Cryptography.X509Certificates.X509Certificate2, ch, "bench", e, null!));
            await using var clientSsl = new SslStream(tcp.GetStream(), false,
                (_, c, ch, e) => clientCheck(c as System.Security.Cryptography.X509Certificates.X509Certificate2, ch, "bench", e, null!),
                (_, _, _, _, _) => client.Certificate);
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(
                serverSsl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = server.Certificate, ClientCertificateRequired = true,
                }),
                clientSsl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "127.0.0.1", ClientCertificates = [client.Certificate],
                }));
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        return times;
    }
}
