using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Flannel.Host.Security;

/// <summary>
/// The PEM files of the cluster credential, named as the Kubernetes Secret kube-flannel-cluster-tls holds them:
/// ca.crt (+ ca.key, kept off the nodes), tls.crt, tls.key. Private keys are created with mode 0600 (set when the
/// file is created, so the key is never readable by others, not even for a moment). Existing files are never
/// overwritten unless asked to (<c>force</c>), and then replaced by a new file rather than rewritten in place.
/// </summary>
public static class CredentialFiles
{
    public const string CaCert = "ca.crt";
    public const string CaKey = "ca.key";
    public const string NodeCert = "tls.crt";
    public const string NodeKey = "tls.key";

    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PublicMode = PrivateMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Writes ca.crt and ca.key into <paramref name="dir"/>.</summary>
    public static void WriteCa(string dir, X509Certificate2 ca, bool force) =>
        Write(dir, force, (CaCert, ca.ExportCertificatePem(), false), (CaKey, PrivateKeyPem(ca), true));

    /// <summary>Writes tls.crt, tls.key and (when given) a copy of the CA's ca.crt into <paramref name="dir"/>.</summary>
    public static void WriteNode(string dir, X509Certificate2 node, string? caPem, bool force)
    {
        var files = new List<(string, string, bool)> { (NodeCert, node.ExportCertificatePem(), false), (NodeKey, PrivateKeyPem(node), true) };
        if (caPem is not null) files.Add((CaCert, caPem, false));
        Write(dir, force, [.. files]);
    }

    /// <summary>Reads the CA (certificate + key) written by <see cref="WriteCa"/>.</summary>
    public static X509Certificate2 ReadCa(string dir)
    {
        var certPath = Path.Combine(dir, CaCert);
        var keyPath = Path.Combine(dir, CaKey);
        return PemCertificates.ReadNodeCertificate(certPath, keyPath, "--ca-dir", "--ca-dir");
    }

    private static string PrivateKeyPem(X509Certificate2 cert)
    {
        using var key = (AsymmetricAlgorithm?)cert.GetECDsaPrivateKey() ?? cert.GetRSAPrivateKey()
            ?? throw new ArgumentException($"\"{cert.Subject}\" has no private key");
        return key.ExportPkcs8PrivateKeyPem();
    }

    private static void Write(string dir, bool force, params (string Name, string Pem, bool Private)[] files)
    {
        Directory.CreateDirectory(dir);
        // Check all before writing any: a refused run leaves nothing half-written.
        if (!force)
            foreach (var f in files)
                if (File.Exists(Path.Combine(dir, f.Name)))
                    throw new IOException($"{Path.Combine(dir, f.Name)} exists (--force replaces it)");
        foreach (var f in files)
        {
            var path = Path.Combine(dir, f.Name);
            if (force) File.Delete(path);
            using var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = f.Private ? PrivateMode : PublicMode,
            });
            stream.Write(Encoding.ASCII.GetBytes(f.Pem.EndsWith('\n') ? f.Pem : f.Pem + "\n"));
        }
    }
}
