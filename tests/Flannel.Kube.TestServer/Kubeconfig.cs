namespace Flannel.Kube.TestServer;

/// <summary>
/// A minimal kubeconfig (plain http) that kubectl and KubernetesClient accept. KubernetesClient refuses a user without
/// credentials, so the user carries a token the test server ignores.
/// </summary>
public static class Kubeconfig
{
    public static string Write(string path, Uri server)
    {
        var text = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: flannel-test
              cluster:
                server: {server.GetLeftPart(UriPartial.Authority)}
            users:
            - name: flannel-test
              user:
                token: flannel-test-token
            contexts:
            - name: flannel-test
              context:
                cluster: flannel-test
                user: flannel-test
                namespace: default
            current-context: flannel-test

            """;
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, text);
        return path;
    }
}
