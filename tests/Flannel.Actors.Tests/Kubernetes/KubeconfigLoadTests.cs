using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Flannel.Actors.Kubernetes;
using k8s;
using Xunit;

namespace Flannel.Actors.Tests.Kubernetes;

/// <summary>
/// flanneld reads --kubeconfig-file with its own YamlDotNet deserializer (KubeClientFactory.LoadKubeconfig: the
/// library's KubernetesYaml cannot run in the NativeAOT form). What it builds must equal what KubernetesClient's own
/// BuildConfigFromConfigFile builds from the same file.
/// </summary>
public sealed class KubeconfigLoadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flannel-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        var path = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(path, text);
        return path;
    }

    private static void AssertSame(KubernetesClientConfiguration expected, KubernetesClientConfiguration actual)
    {
        Assert.Equal(expected.Host, actual.Host);
        Assert.Equal(expected.CurrentContext, actual.CurrentContext);
        Assert.Equal(expected.Namespace, actual.Namespace);
        Assert.Equal(expected.AccessToken, actual.AccessToken);
        Assert.Equal(expected.Username, actual.Username);
        Assert.Equal(expected.Password, actual.Password);
        Assert.Equal(expected.SkipTlsVerify, actual.SkipTlsVerify);
        Assert.Equal(expected.TlsServerName, actual.TlsServerName);
        Assert.Equal(expected.ClientCertificateData, actual.ClientCertificateData);
        Assert.Equal(expected.ClientCertificateKeyData, actual.ClientCertificateKeyData);
        Assert.Equal(expected.ClientCertificateFilePath, actual.ClientCertificateFilePath);
        Assert.Equal(expected.ClientKeyFilePath, actual.ClientKeyFilePath);
        Assert.Equal(expected.SslCaCerts?.Select(c => c.Thumbprint), actual.SslCaCerts?.Select(c => c.Thumbprint));
    }

    [Fact]
    public void A_token_kubeconfig_with_a_relative_CA_file_and_unknown_keys_builds_what_KubernetesClient_builds()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = new CertificateRequest("CN=test-ca", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), ca.ExportCertificatePem());
        var path = Write("""
            apiVersion: v1
            kind: Config
            preferences: {}
            clusters:
            - name: other
              cluster:
                server: https://198.18.0.9:6443
            - name: flannel
              cluster:
                server: https://198.18.0.1:6443
                certificate-authority: ca.crt
                tls-server-name: kubernetes.default
            users:
            - name: flannel
              user:
                token: abc.def
            contexts:
            - name: flannel
              context:
                cluster: flannel
                user: flannel
                namespace: kube-flannel
            current-context: flannel
            some-future-key: ignored

            """);

        var ours = KubeClientFactory.BuildConfig(null, path);
        AssertSame(KubernetesClientConfiguration.BuildConfigFromConfigFile(path), ours);
        Assert.Equal("abc.def", ours.AccessToken);
        Assert.Equal(ca.Thumbprint, Assert.Single(ours.SslCaCerts!).Thumbprint);
    }

    [Fact]
    public void Client_certificate_data_skip_verify_and_the_api_url_flag_build_what_KubernetesClient_builds()
    {
        var path = Write("""
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster:
                server: https://198.18.0.1:6443
                insecure-skip-tls-verify: true
            users:
            - name: u
              user:
                client-certificate-data: Y2VydA==
                client-key-data: a2V5
            contexts:
            - name: x
              context:
                cluster: c
                user: u
            current-context: x

            """);

        AssertSame(KubernetesClientConfiguration.BuildConfigFromConfigFile(path), KubeClientFactory.BuildConfig(null, path));
        AssertSame(KubernetesClientConfiguration.BuildConfigFromConfigFile(path, masterUrl: "https://198.18.0.2:6443"),
            KubeClientFactory.BuildConfig("https://198.18.0.2:6443", path));
        Assert.Equal("https://198.18.0.2:6443", KubeClientFactory.BuildConfig("https://198.18.0.2:6443", path).Host);
    }
}
