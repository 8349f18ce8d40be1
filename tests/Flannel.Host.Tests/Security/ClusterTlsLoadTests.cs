using Flannel.Host.Security;
using Xunit;

namespace Flannel.Host.Tests.Security;

/// <summary>Every unusable credential file is a start error naming the flag and the file.</summary>
public sealed class ClusterTlsLoadTests : IDisposable
{
    private readonly TestCredentials _creds = new();

    [Fact]
    public void A_node_certificate_is_reported_as_expiring_within_30_days_of_its_end_and_not_before()
    {
        using var creds = new TestCredentials();
        var tls = TestCredentials.Load(creds.Node(creds.Ca("main"), "host1"));
        var end = new DateTimeOffset(tls.Certificate.NotAfter.ToUniversalTime());

        Assert.Null(tls.DaysLeftIfExpiringSoon(end - TimeSpan.FromDays(31)));
        Assert.Equal(29, tls.DaysLeftIfExpiringSoon(end - TimeSpan.FromDays(29))!.Value, precision: 3);
        Assert.True(tls.DaysLeftIfExpiringSoon(end + TimeSpan.FromDays(1)) < 0);
    }

    [Fact]
    public void Missing_unreadable_and_non_PEM_files_are_named_with_their_flag()
    {
        var ca = _creds.Ca("c");
        var dir = _creds.Node(ca, "n");
        string F(string name) => Path.Combine(dir, name);
        var junk = Path.Combine(_creds.Root, "junk.pem");
        File.WriteAllText(junk, "not a certificate\n");

        var e = Assert.Throws<ClusterTlsException>(() => ClusterTls.Load(F("nope.crt"), F("tls.key"), F("ca.crt")));
        Assert.StartsWith($"--cluster-tls-cert: cannot read {F("nope.crt")}", e.Message);
        e = Assert.Throws<ClusterTlsException>(() => ClusterTls.Load(F("tls.crt"), F("nope.key"), F("ca.crt")));
        Assert.StartsWith($"--cluster-tls-key: cannot read {F("nope.key")}", e.Message);
        e = Assert.Throws<ClusterTlsException>(() => ClusterTls.Load(F("tls.crt"), F("tls.key"), junk));
        Assert.Equal($"--cluster-tls-ca: {junk} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", e.Message);
        e = Assert.Throws<ClusterTlsException>(() => ClusterTls.Load(junk, F("tls.key"), F("ca.crt")));
        Assert.StartsWith($"--cluster-tls-cert: {junk} holds no PEM certificate", e.Message);
        e = Assert.Throws<ClusterTlsException>(() => ClusterTls.Load(F("tls.crt"), junk, F("ca.crt")));
        Assert.StartsWith($"--cluster-tls-key: {junk} holds no usable", e.Message);
    }

    [Fact]
    public void A_key_of_another_certificate_a_node_certificate_as_CA_and_a_certificate_of_another_CA_are_refused()
    {
        var ca = _creds.Ca("c");
        var other = _creds.Ca("o");
        var a = _creds.Node(ca, "a");
        var b = _creds.Node(ca, "b");
        var stranger = _creds.Node(other, "s");

        var e = Assert.Throws<ClusterTlsException>(() =>
            ClusterTls.Load(Path.Combine(a, "tls.crt"), Path.Combine(b, "tls.key"), Path.Combine(a, "ca.crt")));
        Assert.StartsWith($"--cluster-tls-key: {Path.Combine(b, "tls.key")} does not match the certificate in {Path.Combine(a, "tls.crt")}", e.Message);

        e = Assert.Throws<ClusterTlsException>(() => TestCredentials.Load(a, Path.Combine(b, "tls.crt")));
        Assert.Equal($"--cluster-tls-ca: {Path.Combine(b, "tls.crt")}: \"CN=b\" is not a CA certificate (basicConstraints CA:TRUE)", e.Message);

        e = Assert.Throws<ClusterTlsException>(() => TestCredentials.Load(stranger, Path.Combine(a, "ca.crt")));
        Assert.Equal($"--cluster-tls-cert: {Path.Combine(stranger, "tls.crt")} (\"CN=s\") is not valid under --cluster-tls-ca " +
                     $"{Path.Combine(a, "ca.crt")}: not issued by the cluster CA", e.Message);
    }

    public void Dispose() => _creds.Dispose();
}
