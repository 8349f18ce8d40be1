using System.Net;
using System.Security.Cryptography.X509Certificates;
using Flannel.Host.Security;

namespace Flannel.Host.Tests.Security;

/// <summary>CAs and node credentials written to a temporary directory, as `flanneld certs` writes them.</summary>
public sealed class TestCredentials : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("flannel-tls-").FullName;

    /// <summary>A new CA in Root/name (ca.crt, ca.key); returned with its key.</summary>
    public X509Certificate2 Ca(string name, TimeSpan? validity = null)
    {
        var ca = ClusterCertificates.CreateCa($"{name} CA", validity ?? TimeSpan.FromDays(30));
        CredentialFiles.WriteCa(Path.Combine(Root, name), ca, force: false);
        return ca;
    }

    /// <summary>A node credential under <paramref name="ca"/> in Root/node (tls.crt, tls.key, ca.crt); returns the directory.</summary>
    public string Node(X509Certificate2 ca, string node, string ip = "127.0.0.1")
    {
        using var cert = ClusterCertificates.CreateNode(ca, node, [IPAddress.Parse(ip)], [], TimeSpan.FromDays(30));
        var dir = Path.Combine(Root, node);
        CredentialFiles.WriteNode(dir, cert, ca.ExportCertificatePem(), force: false);
        return dir;
    }

    public static ClusterTls Load(string dir, string? caFile = null) =>
        ClusterTls.Load(Path.Combine(dir, CredentialFiles.NodeCert), Path.Combine(dir, CredentialFiles.NodeKey),
            caFile ?? Path.Combine(dir, CredentialFiles.CaCert));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
