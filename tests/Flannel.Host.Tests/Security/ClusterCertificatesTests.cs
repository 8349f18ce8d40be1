using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Flannel.Host.Certs;
using Flannel.Host.Security;
using Xunit;

namespace Flannel.Host.Tests.Security;

public sealed class ClusterCertificatesTests : IDisposable
{
    private readonly TestCredentials _creds = new();

    private static X509Certificate2Collection Bundle(params X509Certificate2[] cas) =>
        new(cas.Select(c => X509CertificateLoader.LoadCertificate(c.RawData)).ToArray());

    [Fact]
    public void A_node_certificate_validates_against_its_CA_and_one_from_another_CA_does_not()
    {
        using var ca = ClusterCertificates.CreateCa("cluster", TimeSpan.FromDays(10));
        using var other = ClusterCertificates.CreateCa("cluster", TimeSpan.FromDays(10)); // same name, other key
        using var node = ClusterCertificates.CreateNode(ca, "host1", [IPAddress.Parse("198.18.0.1")], ["host1.example"], TimeSpan.FromDays(5));
        using var stranger = ClusterCertificates.CreateNode(other, "host1", [IPAddress.Parse("198.18.0.1")], [], TimeSpan.FromDays(5));

        var validator = new PeerCertificateValidator(Bundle(ca));
        Assert.Null(validator.Check(node));
        Assert.Equal("not issued by the cluster CA", validator.Check(stranger));
        Assert.Equal("no certificate presented", validator.Check(null));
        // The CA itself is no node credential: it is not meant for either end of a connection.
        Assert.Contains("lacks serverAuth and clientAuth", validator.Check(X509CertificateLoader.LoadCertificate(ca.RawData)));
        // Outside its validity a certificate from the right CA is refused too.
        Assert.StartsWith("invalid certificate", validator.Check(node, now: DateTime.UtcNow.AddDays(20)));

        var san = node.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["198.18.0.1"], san.EnumerateIPAddresses().Select(a => a.ToString()));
        Assert.Equal(["host1.example"], san.EnumerateDnsNames());
        Assert.True(node.NotAfter <= ca.NotAfter);
    }

    [Fact]
    public void A_CA_bundle_of_old_and_new_CA_accepts_certificates_of_both_for_a_rotation()
    {
        using var oldCa = ClusterCertificates.CreateCa("old", TimeSpan.FromDays(10));
        using var newCa = ClusterCertificates.CreateCa("new", TimeSpan.FromDays(10));
        using var third = ClusterCertificates.CreateCa("third", TimeSpan.FromDays(10));
        var bundleFile = Path.Combine(_creds.Root, "bundle.crt");
        File.WriteAllText(bundleFile, oldCa.ExportCertificatePem() + "\n" + newCa.ExportCertificatePem() + "\n");

        var trusted = PemCertificates.ReadCertificates(bundleFile, ClusterTls.CaFlag);
        Assert.Equal(2, trusted.Count);
        var validator = new PeerCertificateValidator(trusted);
        using var a = ClusterCertificates.CreateNode(oldCa, "a", [], [], TimeSpan.FromDays(1));
        using var b = ClusterCertificates.CreateNode(newCa, "b", [], [], TimeSpan.FromDays(1));
        using var c = ClusterCertificates.CreateNode(third, "c", [], [], TimeSpan.FromDays(1));
        Assert.Null(validator.Check(a));
        Assert.Null(validator.Check(b));
        Assert.Equal("not issued by the cluster CA", validator.Check(c));

        // A node whose ca.crt is the bundle loads with either certificate.
        var dir = _creds.Node(newCa, "rolled");
        Assert.Equal(2, TestCredentials.Load(dir, bundleFile).Ca.Count);
    }

    [Fact]
    public void A_certificate_without_client_auth_is_refused()
    {
        using var ca = ClusterCertificates.CreateCa("cluster", TimeSpan.FromDays(10));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=web", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(PeerCertificateValidator.ServerAuthOid)], false));
        using var serverOnly = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3]);
        Assert.Equal("extended key usage lacks clientAuth", new PeerCertificateValidator(Bundle(ca)).Check(serverOnly));
    }

    [Fact]
    public void Certs_command_writes_a_CA_and_a_node_credential_that_loads_with_private_keys_0600_and_refuses_to_overwrite()
    {
        var caDir = Path.Combine(_creds.Root, "ca");
        var nodeDir = Path.Combine(_creds.Root, "node");
        var (code, output, error) = Certs("ca", "--out", caDir, "--days", "30");
        Assert.True(code == 0, error);
        Assert.Contains("ca.key", output);
        (code, _, error) = Certs("node", "--ca-dir", caDir, "--out", nodeDir, "--name", "host1", "--ip", "198.18.0.1", "--ip", "fd00::1",
            "--dns", "host1.example");
        Assert.True(code == 0, error);

        foreach (var key in new[] { Path.Combine(caDir, "ca.key"), Path.Combine(nodeDir, "tls.key") })
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.Equal(File.ReadAllText(Path.Combine(caDir, "ca.crt")), File.ReadAllText(Path.Combine(nodeDir, "ca.crt")));
        var tls = TestCredentials.Load(nodeDir);
        Assert.True(tls.Certificate.HasPrivateKey);
        Assert.Equal("CN=host1", tls.Certificate.Subject);
        Assert.Equal(["198.18.0.1", "fd00::1"],
            tls.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses().Select(a => a.ToString()));

        var before = File.ReadAllText(Path.Combine(nodeDir, "tls.key"));
        (code, _, error) = Certs("node", "--ca-dir", caDir, "--out", nodeDir, "--name", "host1");
        Assert.Equal(1, code);
        Assert.Contains("exists (--force replaces it)", error);
        Assert.Equal(before, File.ReadAllText(Path.Combine(nodeDir, "tls.key")));
        (code, _, error) = Certs("node", "--ca-dir", caDir, "--out", nodeDir, "--name", "host1", "--force");
        Assert.True(code == 0, error);
        Assert.NotEqual(before, File.ReadAllText(Path.Combine(nodeDir, "tls.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(nodeDir, "tls.key")));

        (code, _, error) = Certs("node", "--ca-dir", caDir, "--out", nodeDir, "--ip", "not-an-ip", "--force");
        Assert.Equal(2, code);
        Assert.Contains("--ip: \"not-an-ip\"", error);
        (code, _, error) = Certs("node", "--out", nodeDir);
        Assert.Equal(2, code);
        Assert.Contains("--ca-dir", error);
    }

    private static (int Code, string Out, string Err) Certs(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = CertsCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => _creds.Dispose();
}
