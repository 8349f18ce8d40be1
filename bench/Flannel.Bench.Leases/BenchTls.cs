using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor.Setup;
using Akka.Remote.Transport.DotNetty;
using Flannel.Host.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Bench.Leases;

/// <summary>
/// The cluster TLS of the benchmark's in-process nodes: one CA per process and one certificate per node, exactly as the
/// agent uses them (ClusterTls: mutual TLS, the cluster-CA-only validator). Certificates are made once, outside the
/// timed part, and reused across runs.
/// </summary>
public sealed class BenchTls
{
    private readonly X509Certificate2 _ca = ClusterCertificates.CreateCa("bench CA", TimeSpan.FromDays(1));
    private readonly string _dir = Directory.CreateTempSubdirectory("flannel-bench-tls-").FullName;
    private readonly List<ClusterTls> _nodes = [];

    /// <summary>The Akka.Remote TLS setup of node <paramref name="index"/> (certificates made on first use).</summary>
    public Setup For(int index)
    {
        lock (_nodes)
        {
            while (_nodes.Count <= index)
            {
                var name = $"node-{_nodes.Count}";
                using var cert = ClusterCertificates.CreateNode(_ca, name, [IPAddress.Loopback], [], TimeSpan.FromDays(1));
                var dir = Path.Combine(_dir, name);
                CredentialFiles.WriteNode(dir, cert, _ca.ExportCertificatePem(), force: false);
                _nodes.Add(ClusterTls.Load(Path.Combine(dir, CredentialFiles.NodeCert), Path.Combine(dir, CredentialFiles.NodeKey),
                    Path.Combine(dir, CredentialFiles.CaCert)));
            }
            // The agent's setup, its validator wrapped to count calls: each TLS handshake runs it once on each end.
            var agent = _nodes[index].SslSetup(NullLogger.Instance);
            var check = agent.CustomValidator!;
            return new DotNettySslSetup(agent.Certificate, agent.SuppressValidation, agent.RequireMutualAuthentication,
                agent.ValidateCertificateHostname, (cert, chain, peer, errors, log) =>
                {
                    Interlocked.Increment(ref _peerChecks);
                    return check(cert, chain, peer, errors, log);
                });
        }
    }

    private long _peerChecks;

    /// <summary>Peer certificate checks so far, all nodes: 2 per completed handshake (one on each end).</summary>
    public long PeerChecks => Interlocked.Read(ref _peerChecks);

    public ClusterTls Node(int index)
    {
        For(index);
        lock (_nodes) return _nodes[index];
    }

    /// <summary>
    /// Two node credentials under an RSA-2048 CA (RSA-2048 node keys), loaded the way the agent loads any credential:
    /// for HandshakeBench's comparison with the ECDSA P-256 ones the agent creates (the agent accepts both).
    /// </summary>
    public (ClusterTls A, ClusterTls B) RsaPair()
    {
        var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=bench RSA CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        ClusterTls Node(string name)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid(PeerCertificateValidator.ServerAuthOid), new Oid(PeerCertificateValidator.ClientAuthOid)], false));
            using var signed = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-4), DateTimeOffset.UtcNow.AddHours(23), RandomNumberGenerator.GetBytes(8));
            using var cert = signed.CopyWithPrivateKey(key);
            var dir = Path.Combine(_dir, "rsa-" + name);
            CredentialFiles.WriteNode(dir, cert, ca.ExportCertificatePem(), force: false);
            return ClusterTls.Load(Path.Combine(dir, CredentialFiles.NodeCert), Path.Combine(dir, CredentialFiles.NodeKey),
                Path.Combine(dir, CredentialFiles.CaCert));
        }
        return (Node("rsa-a"), Node("rsa-b"));
    }

    public void Delete() => Directory.Delete(_dir, recursive: true);
}
