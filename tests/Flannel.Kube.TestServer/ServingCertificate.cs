using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flannel.Kube.TestServer;

/// <summary>
/// A self-signed serving certificate for the server's HTTPS port (its own CA, IP SAN = the listen address), so pods
/// reach it the way an in-cluster client does: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the
/// service account's ca.crt. Made per run, in memory; only the public certificate is written out.
/// </summary>
public static class ServingCertificate
{
    public static X509Certificate2 Create(IPAddress address)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kube-test-server", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(address);
        if (!address.Equals(IPAddress.Loopback)) san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("kubernetes.default.svc");
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        // Through PKCS#12 so the key is usable by Kestrel's TLS stack (an ephemeral key is not on every platform).
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }
}
