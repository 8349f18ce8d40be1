using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Security;

/// <summary>
/// The cluster credential of this node (--cluster-tls-cert/-key/-ca) and what Akka.Remote needs to use it: mutual TLS,
/// every peer (inbound and outbound) checked by <see cref="PeerCertificateValidator"/> against the cluster CA only, no
/// host name check (peers connect by IP; what matters is who signed the certificate). Refusals are logged as event
/// 4002 with the peer's subject and issuer, throttled per peer host.
/// </summary>
public sealed class ClusterTls
{
    public const string CertFlag = "--cluster-tls-cert";
    public const string KeyFlag = "--cluster-tls-key";
    public const string CaFlag = "--cluster-tls-ca";

    private ClusterTls(X509Certificate2 certificate, X509Certificate2Collection ca, string caFile)
    {
        Certificate = certificate;
        Ca = ca;
        CaFile = caFile;
        Validator = new PeerCertificateValidator(ca);
    }

    public X509Certificate2 Certificate { get; }
    public X509Certificate2Collection Ca { get; }
    public string CaFile { get; }
    public PeerCertificateValidator Validator { get; }

    /// <summary>
    /// Loads and checks the three files; throws <see cref="ClusterTlsException"/> naming the flag and file. Our own
    /// certificate must pass the same check peers apply to it, so a wrong file fails here, at start, and not as
    /// refused handshakes on every other node.
    /// </summary>
    public static ClusterTls Load(string certPath, string keyPath, string caPath)
    {
        var ca = PemCertificates.ReadCertificates(caPath, CaFlag);
        foreach (var c in ca)
            if (c.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
                throw new ClusterTlsException($"{CaFlag}: {caPath}: \"{c.Subject}\" is not a CA certificate (basicConstraints CA:TRUE)");
        var certificate = PemCertificates.ReadNodeCertificate(certPath, keyPath, CertFlag, KeyFlag);
        var tls = new ClusterTls(certificate, ca, caPath);
        if (tls.Validator.Check(certificate) is { } problem)
            throw new ClusterTlsException($"{CertFlag}: {certPath} (\"{certificate.Subject}\") is not valid under {CaFlag} {caPath}: {problem}");
        return tls;
    }

    /// <summary>Warn this long before the node certificate expires: time for a rolling renewal.</summary>
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(30);

    /// <summary>Days left when the node certificate expires within <see cref="ExpiryWarning"/> of <paramref name="now"/>, else null.</summary>
    public double? DaysLeftIfExpiringSoon(DateTimeOffset now)
    {
        var left = new DateTimeOffset(Certificate.NotAfter.ToUniversalTime()) - now;
        return left < ExpiryWarning ? left.TotalDays : null;
    }

    /// <summary>The Akka.Remote setup: add it to the ActorSystemSetup and set akka.remote.dot-netty.tcp.enable-ssl = on.</summary>
    public DotNettySslSetup SslSetup(Microsoft.Extensions.Logging.ILogger log, RefusalThrottle? throttle = null)
    {
        throttle ??= new RefusalThrottle(TimeSpan.FromMinutes(1));
        return new DotNettySslSetup(Certificate, suppressValidation: false, requireMutualAuthentication: true,
            validateCertificateHostname: false, customValidator: Callback(Validator, log, throttle));
    }

    /// <summary>The TLS callback: <see cref="PeerCertificateValidator.Check"/> plus the refusal log.</summary>
    public static CertificateValidationCallback Callback(PeerCertificateValidator validator, Microsoft.Extensions.Logging.ILogger log,
        RefusalThrottle throttle) =>
        (X509Certificate2? certificate, X509Chain? chain, string remotePeer, SslPolicyErrors _, ILoggingAdapter _) =>
        {
            // The SslPolicyErrors are the platform's view (system trust store, host name): deliberately not ours.
            var problem = validator.Check(certificate, chain);
            if (problem is null) return true;
            if (throttle.ShouldReport(RefusalThrottle.HostOf(remotePeer), DateTime.UtcNow, out var suppressed))
                log.ClusterCertificateRefused(UntrustedText.Clip(remotePeer), problem, UntrustedText.Clip(certificate?.Subject),
                    UntrustedText.Clip(certificate?.Issuer), suppressed);
            return false;
        };
}
