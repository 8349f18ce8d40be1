using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Kubernetes;

/// <summary>Creates core/v1 Events (e.g. "a network config change was refused") so they show in kubectl describe / get events.</summary>
public sealed class KubeEventRecorder(IKubernetes client, ILogger log, string component = "flanneld", string? host = null)
{
    public const string ConfigRefusedReason = "NetworkConfigRefused";

    /// <param name="type">"Normal" or "Warning".</param>
    public async Task<Corev1Event> RecordAsync(V1ObjectReference involved, string type, string reason, string message, CancellationToken ct = default)
    {
        var now = DateTime.UtcNow;
        var ns = string.IsNullOrEmpty(involved.NamespaceProperty) ? "default" : involved.NamespaceProperty;
        var ev = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = $"{involved.Name}.", NamespaceProperty = ns },
            InvolvedObject = involved,
            Type = type,
            Reason = reason,
            Message = message,
            Source = new V1EventSource { Component = component, Host = host },
            ReportingComponent = component,
            ReportingInstance = host ?? component,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        var created = await client.CoreV1.CreateNamespacedEventAsync(body: ev, namespaceParameter: ns, cancellationToken: ct);
        log.LogInformation("Recorded {Type} event {Reason} on {Kind} {Namespace}/{Name}: {Message}", type, reason, involved.Kind, ns, involved.Name, message);
        return created;
    }

    /// <summary>A Warning on the ConfigMap whose net-conf.json could not be applied; the old config keeps running.</summary>
    public Task<Corev1Event> ConfigRefusedAsync(string configMapNamespace, string configMapName, string message, CancellationToken ct = default) =>
        RecordAsync(new V1ObjectReference { ApiVersion = "v1", Kind = "ConfigMap", NamespaceProperty = configMapNamespace, Name = configMapName },
            "Warning", ConfigRefusedReason, message, ct);
}
