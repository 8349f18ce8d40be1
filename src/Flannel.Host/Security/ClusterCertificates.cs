using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flannel.Host.Security;

/// <summary>
/// Creates the cluster CA and node certificates in-process (no openssl): ECDSA P-256, SHA-256. The CA may sign only end
/// certificates (path length 0); a node certificate is good for both ends of a connection (EKU serverAuth +
/// clientAuth) and names its addresses as SANs. Every returned certificate carries its private key.
/// </summary>
public static class ClusterCertificates
{
    public static readonly TimeSpan DefaultCaValidity = TimeSpan.FromDays(3650);
    public static readonly TimeSpan DefaultNodeValidity = TimeSpan.FromDays(365);

    /// <summary>Allowance for clocks of other nodes that run a little behind ours.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public static X509Certificate2 CreateCa(string commonName, TimeSpan validity, DateTimeOffset? now = null)
    {
        var from = (now ?? DateTimeOffset.UtcNow) - ClockSkew;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Name(commonName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(from, from + validity + ClockSkew);
    }

    /// <summary>A node certificate signed by <paramref name="ca"/> (which must carry its key); expires no later than the CA.</summary>
    public static X509Certificate2 CreateNode(X509Certificate2 ca, string commonName, IEnumerable<IPAddress> ips, IEnumerable<string> dnsNames,
        TimeSpan validity, DateTimeOffset? now = null)
    {
        if (!ca.HasPrivateKey) throw new ArgumentException("the CA certificate has no private key", nameof(ca));
        var from = (now ?? DateTimeOffset.UtcNow) - ClockSkew;
        var until = from + validity + ClockSkew;
        // A certificate may not outlive (nor predate) its issuer.
        if (from < ca.NotBefore) from = ca.NotBefore;
        if (until > ca.NotAfter) until = ca.NotAfter;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Name(commonName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(PeerCertificateValidator.ServerAuthOid), new Oid(PeerCertificateValidator.ClientAuthOid)], false));
        var san = new SubjectAlternativeNameBuilder();
        var any = false;
        foreach (var ip in ips) { san.AddIpAddress(ip); any = true; }
        foreach (var dns in dnsNames) { san.AddDnsName(dns); any = true; }
        if (any) request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f; // a positive INTEGER
        using var signed = request.Create(ca, from, until, serial);
        return signed.CopyWithPrivateKey(key);
    }

    private static X500DistinguishedName Name(string commonName)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        return builder.Build();
    }
}
