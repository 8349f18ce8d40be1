using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flannel.Host.Security;

/// <summary>
/// Reads the PEM files of the cluster credential. Every failure names the flag the file came from, so an operator sees
/// "--cluster-tls-key: /etc/kube-flannel/tls/tls.key does not match the certificate in ..." rather than a bare
/// CryptographicException.
/// </summary>
public static class PemCertificates
{
    /// <summary>Every CERTIFICATE block of a PEM file, in order; at least one.</summary>
    public static X509Certificate2Collection ReadCertificates(string path, string flag)
    {
        var text = ReadText(path, flag);
        var result = new X509Certificate2Collection();
        var rest = text.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var label = rest.Span[fields.Label];
            if (label.SequenceEqual("CERTIFICATE"))
            {
                try
                {
                    var der = Convert.FromBase64String(rest.Span[fields.Base64Data].ToString());
                    result.Add(X509CertificateLoader.LoadCertificate(der));
                }
                catch (Exception e) when (e is CryptographicException or FormatException)
                {
                    throw new ClusterTlsException($"{flag}: {path}: certificate {result.Count + 1} cannot be read: {e.Message}");
                }
            }
            rest = rest[fields.Location.End..];
        }
        if (result.Count == 0) throw new ClusterTlsException($"{flag}: {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return result;
    }

    /// <summary>
    /// The node's certificate (first CERTIFICATE of <paramref name="certPath"/>) with the private key of
    /// <paramref name="keyPath"/> (PKCS#8, EC or RSA PEM), re-imported through PKCS#12: on Linux SslStream needs a key
    /// that is not an ephemeral in-memory import.
    /// </summary>
    public static X509Certificate2 ReadNodeCertificate(string certPath, string keyPath, string certFlag, string keyFlag)
    {
        var leaf = ReadCertificates(certPath, certFlag)[0];
        var keyText = ReadText(keyPath, keyFlag);
        using AsymmetricAlgorithm key = leaf.GetKeyAlgorithm() switch
        {
            EcPublicKeyOid => ECDsa.Create(),
            RsaPublicKeyOid => RSA.Create(),
            var other => throw new ClusterTlsException($"{certFlag}: {certPath}: unsupported key algorithm {other} (use ECDSA or RSA)"),
        };
        try
        {
            key.ImportFromPem(keyText);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new ClusterTlsException(
                $"{keyFlag}: {keyPath} holds no usable unencrypted PEM private key of the certificate's type: {e.Message}");
        }
        X509Certificate2 withKey;
        try
        {
            withKey = key is ECDsa ec ? leaf.CopyWithPrivateKey(ec) : leaf.CopyWithPrivateKey((RSA)key);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new ClusterTlsException($"{keyFlag}: {keyPath} does not match the certificate in {certPath}: {e.Message}");
        }
        using (withKey)
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string RsaPublicKeyOid = "1.2.840.113549.1.1.1";

    private static string ReadText(string path, string flag)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClusterTlsException($"{flag}: cannot read {path}: {e.Message}");
        }
    }
}
