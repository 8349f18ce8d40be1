using System.Globalization;
using System.Net;
using Akka.Actor;
using Akka.Configuration;
using Akka.Discovery;
using Akka.Event;
using k8s;
using k8s.Models;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Akka.Discovery method "kubernetes-pods": the contact points are the flannel pods (namespace + label selector) that
/// have an address. The DaemonSet runs with hostNetwork, so status.podIP is the node's IP; status.hostIP is the fallback.
/// Configured under akka.discovery.kubernetes-pods (see <see cref="DefaultConfig"/>); the client comes from
/// <see cref="KubernetesClientExtension"/> or, when none was registered, from api-url / kubeconfig-file / in-cluster.
/// </summary>
public sealed class KubernetesPodsServiceDiscovery : ServiceDiscovery
{
    public const string ConfigPath = "akka.discovery.kubernetes-pods";

    public static readonly Config DefaultConfig = ConfigurationFactory.ParseString("""
        akka.discovery.kubernetes-pods {
          class = "Flannel.Actors.Kubernetes.KubernetesPodsServiceDiscovery, Flannel.Actors"
          # Empty: the POD_NAMESPACE environment variable, else the service account's namespace, else kube-flannel.
          pod-namespace = ""
          # {0} is replaced by the looked-up service name.
          pod-label-selector = "app={0}"
          # Port of every contact point; 0 = this actor system's remoting port (all agents use the same one).
          port = 0
          api-url = ""
          kubeconfig-file = ""
        }
        """);

    private readonly ExtendedActorSystem _system;
    private readonly ILoggingAdapter _log;
    private readonly Lazy<IKubernetes> _client;
    private readonly string _namespace;
    private readonly string _labelSelector;
    private readonly int _port;

    public KubernetesPodsServiceDiscovery(ExtendedActorSystem system)
    {
        _system = system;
        _log = Logging.GetLogger(system, typeof(KubernetesPodsServiceDiscovery));
        var config = system.Settings.Config.GetConfig(ConfigPath).WithFallback(DefaultConfig.GetConfig(ConfigPath));
        _namespace = ResolveNamespace(config.GetString("pod-namespace", ""));
        _labelSelector = config.GetString("pod-label-selector", "app={0}");
        _port = config.GetInt("port", 0);
        var apiUrl = config.GetString("api-url", "");
        var kubeconfig = config.GetString("kubeconfig-file", "");
        _client = new Lazy<IKubernetes>(() => KubernetesClientExtension.Get(system).Client ?? KubeClientFactory.Create(apiUrl, kubeconfig));
    }

    public override async Task<Resolved> Lookup(Lookup lookup, TimeSpan resolveTimeout)
    {
        var selector = string.Format(CultureInfo.InvariantCulture, _labelSelector, lookup.ServiceName);
        using var cts = new CancellationTokenSource(resolveTimeout);
        var pods = await _client.Value.CoreV1.ListNamespacedPodAsync(namespaceParameter: _namespace, labelSelector: selector, cancellationToken: cts.Token);
        var port = _port != 0 ? _port : _system.Provider.DefaultAddress.Port;
        var targets = ContactPoints(pods.Items)
            .Select(ip => new ResolvedTarget(ip.ToString(), port, ip))
            .ToList();
        _log.Debug("Discovered {Count} flannel pods in {Namespace} with {Selector}: {Targets}", targets.Count, _namespace, selector,
            string.Join(", ", targets.Select(t => t.Host)));
        return new Resolved(lookup.ServiceName, targets);
    }

    /// <summary>Distinct addresses of the pods that can be contact points: not terminating, not finished, with an IP.</summary>
    public static IReadOnlyList<IPAddress> ContactPoints(IEnumerable<V1Pod> pods) => pods
        .Where(p => p.Metadata?.DeletionTimestamp is null && p.Status?.Phase is not ("Failed" or "Succeeded"))
        .Select(p => IPAddress.TryParse(p.Status?.PodIP ?? p.Status?.HostIP ?? "", out var ip) ? ip : null)
        .OfType<IPAddress>()
        .Distinct()
        .ToList();

    private static string ResolveNamespace(string configured)
    {
        if (!string.IsNullOrEmpty(configured)) return configured;
        var env = Environment.GetEnvironmentVariable("POD_NAMESPACE");
        if (!string.IsNullOrEmpty(env)) return env;
        const string serviceAccountNs = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
        return File.Exists(serviceAccountNs) ? File.ReadAllText(serviceAccountNs).Trim() : "kube-flannel";
    }
}
