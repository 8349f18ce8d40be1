using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Flannel.Host.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Bench.Leases;

/// <summary>
/// What one new association between two nodes pays for its mutual-TLS handshake, on loopback, both ends in this
/// process (as in the in-process cluster): wall-clock and CPU milliseconds per handshake. The calls are the ones
/// Akka.Remote 1.5.73 makes through DotNetty 0.7.6's TlsHandler: the legacy <c>AuthenticateAsServerAsync(certificate,
/// clientCertificateRequired: true, protocols, checkRevocation: false)</c> and <c>AuthenticateAsClientAsync(host,
/// no certificates, protocols, false)</c> with the client certificate from a selection callback, and DotNetty's
/// protocols Tls | Tls11 | Tls12 (so TLS 1.2; TLS 1.3 is not offered). Variants isolate what the key type, the
/// protocol and the agent's own chain check cost.
/// </summary>
public static class HandshakeBench
{
    /// <summary>DotNetty 0.7.6's ServerTlsSettings/ClientTlsSettings default, which Akka.Remote does not override.</summary>
#pragma warning disable SYSLIB0039 // TLS 1.0/1.1: listed because DotNetty lists them; OpenSSL negotiates 1.2.
    public const SslProtocols AkkaProtocols = SslProtocols.Tls | SslProtocols.Tls11 | SslProtocols.Tls12;
#pragma warning restore SYSLIB0039

    /// <param name="Check">The peer check both ends apply (null: accept any certificate, to isolate the agent's check).</param>
    public sealed record Variant(string Name, ClusterTls Server, ClusterTls Client, bool Check, SslProtocols Protocols, bool Tls = true);

    public sealed record Result(string Name, double WallMs, double CpuMs, double MinWallMs, string Protocol, string Cipher);

    /// <summary>Median wall time of <paramref name="samples"/> handshakes after 10 unreported warm-ups; CPU is the process's over them / samples.</summary>
    public static async Task<Result> MeasureAsync(Variant v, int samples)
    {
        var serverCheck = ClusterTls.Callback(v.Server.Validator, NullLogger.Instance, new RefusalThrottle(TimeSpan.FromMinutes(1)));
        var clientCheck = ClusterTls.Callback(v.Client.Validator, NullLogger.Instance, new RefusalThrottle(TimeSpan.FromMinutes(1)));
        RemoteCertificateValidationCallback Validation(Akka.Remote.Transport.DotNetty.CertificateValidationCallback check) =>
            (_, c, ch, e) => !v.Check || check(c as X509Certificate2, ch, "bench", e, null!);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var times = new List<double>();
        var protocol = "";
        var cipher = "";
        TimeSpan cpu0 = default;
        for (var i = 0; i < samples + 10; i++)
        {
            if (i == 10)
            {
                using var p = Process.GetCurrentProcess();
                cpu0 = p.TotalProcessorTime;
            }
            var sw = Stopwatch.StartNew();
            using var tcp = new TcpClient();
            var accept = listener.AcceptTcpClientAsync();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            using var accepted = await accept;
            if (v.Tls)
            {
                await using var serverSsl = new SslStream(accepted.GetStream(), true, Validation(serverCheck));
                await using var clientSsl = new SslStream(tcp.GetStream(), true, Validation(clientCheck), (_, _, _, _, _) => v.Client.Certificate);
                await Task.WhenAll(
                    serverSsl.AuthenticateAsServerAsync(v.Server.Certificate, true, v.Protocols, false),
                    clientSsl.AuthenticateAsClientAsync("127.0.0.1", [], v.Protocols, false));
                protocol = clientSsl.SslProtocol.ToString();
                cipher = clientSsl.NegotiatedCipherSuite.ToString();
            }
            if (i >= 10) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        using var me = Process.GetCurrentProcess();
        var cpuMs = (me.TotalProcessorTime - cpu0).TotalMilliseconds / samples;
        return new Result(v.Name, Math.Round(Convergence.Median(times)!.Value, 3), Math.Round(cpuMs, 3), Math.Round(times.Min(), 3), protocol, cipher);
    }

    /// <summary>
    /// CPU ms per call of <paramref name="work"/>, including the finalization of what it left behind (a full GC and the
    /// finalizer queue inside the measured window: X509 handles that are not disposed are freed by the finalizer thread).
    /// </summary>
    public static double CpuMs(Action work, int calls)
    {
        for (var i = 0; i < 10; i++) work();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var p = Process.GetCurrentProcess();
        var cpu0 = p.TotalProcessorTime;
        for (var i = 0; i < calls; i++) work();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        p.Refresh();
        return Math.Round((p.TotalProcessorTime - cpu0).TotalMilliseconds / calls, 3);
    }

    /// <summary>The agent's check of one peer (<see cref="PeerCertificateValidator.Check"/>: one chain build against the cluster CA).</summary>
    public static double ValidatorCpuMs(ClusterTls tls, X509Certificate2 peer, int calls) =>
        CpuMs(() =>
        {
            if (tls.Validator.Check(peer) is { } problem) throw new InvalidOperationException(problem);
        }, calls);

    /// <summary>
    /// A chain build with the platform's default policy (system trust store), as SslStream does for the peer's
    /// certificate before our callback and for its own certificate on every server handshake.
    /// </summary>
    public static double SystemChainCpuMs(X509Certificate2 cert, int calls) =>
        CpuMs(() =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.Build(cert);
        }, calls);
}
