using k8s;
using k8s.KubeConfigModels;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

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
            return KubernetesClientConfiguration.BuildConfigFromConfigObject(LoadKubeconfig(kubeconfigPath),
                masterUrl: string.IsNullOrEmpty(apiUrl) ? null : apiUrl);
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

    /// <summary>
    /// Reads a kubeconfig file as KubernetesClient's BuildConfigFromConfigFile does (YamlDotNet, camel-case names, the
    /// models' own aliases, unknown keys ignored; relative paths resolve against the file's directory), without its
    /// KubernetesYaml class: that class's static constructor maps every API model's JSON names by ordering properties
    /// on PropertyInfo.MetadataToken, which the NativeAOT form of flanneld cannot provide (it throws), and a kubeconfig
    /// holds none of those models.
    /// </summary>
    public static K8SConfiguration LoadKubeconfig(string path)
    {
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(CamelCaseNamingConvention.Instance)
            .WithAttemptingUnquotedStringTypeDeserialization()
            .IgnoreUnmatchedProperties()
            .Build();
        var config = deserializer.Deserialize<K8SConfiguration?>(File.ReadAllText(path))
                     ?? throw new FormatException($"--kubeconfig-file: {path} is empty");
        config.FileName = Path.GetFullPath(path);
        return config;
    }

    public static IKubernetes Create(string? apiUrl, string? kubeconfigPath)
    {
        KubeWatchJson.Register();
        return new k8s.Kubernetes(BuildConfig(apiUrl, kubeconfigPath));
    }
}
