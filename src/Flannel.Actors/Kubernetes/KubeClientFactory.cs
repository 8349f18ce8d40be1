using k8s;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Builds a KubernetesClient the way flanneld's flags describe it: --kubeconfig-file (optionally overridden by
/// --kube-api-url), else --kube-api-url alone, else the in-cluster service account, else the default kubeconfig.
/// </summary>
public static class KubeClientFactory
{
    public static KubernetesClientConfiguration BuildConfig(string? apiUrl, string? kubeconfigPath)
    {
        if (!string.IsNullOrEmpty(kubeconfigPath))
        {
            if (!File.Exists(kubeconfigPath)) throw new FileNotFoundException($"--kubeconfig-file: {kubeconfigPath} does not exist", kubeconfigPath);
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfigPath, masterUrl: string.IsNullOrEmpty(apiUrl) ? null : apiUrl);
        }
        if (KubernetesClientConfiguration.IsInCluster())
        {
            var inCluster = KubernetesClientConfiguration.InClusterConfig();
            if (!string.IsNullOrEmpty(apiUrl)) inCluster.Host = apiUrl;
            return inCluster;
        }
        if (!string.IsNullOrEmpty(apiUrl)) return new KubernetesClientConfiguration { Host = apiUrl };
        return KubernetesClientConfiguration.BuildDefaultConfig();
    }

    public static IKubernetes Create(string? apiUrl, string? kubeconfigPath) => new k8s.Kubernetes(BuildConfig(apiUrl, kubeconfigPath));
}
