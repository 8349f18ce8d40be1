using System.Net;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor.Setup;
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
            return _nodes[index].SslSetup(NullLogger.Instance);
        }
    }

    public ClusterTls Node(int index)
    {
        For(index);
        lock (_nodes) return _nodes[index];
    }

    public void Delete() => Directory.Delete(_dir, recursive: true);
}
