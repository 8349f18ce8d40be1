using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Flannel.Actors.Kubernetes;
using k8s;
using k8s.Models;

namespace Flannel.MiniKubelet;

/// <summary>
/// A minimal kubelet for DaemonSets on one namespace host: it watches every DaemonSet, and for each runs one pod on its
/// node (<see cref="PodRunner"/>) as the DaemonSet controller and kubelet together would: creates the Pod object (owned by
/// the DaemonSet, spec = the template on this node), runs it, reports its status, replaces it when the template changes
/// (generation), and stops it and deletes the object when the DaemonSet goes. It also writes the DaemonSet's status
/// counts from the pods it sees (every kubelet computes the same numbers). A template change rolls one node at a time
/// (the manifest's maxUnavailable 1; other values are treated as 1): a kubelet replaces its pod only when every other
/// pod of the DaemonSet is Ready and it holds the DaemonSet's roll annotation, claimed with a resourceVersion
/// precondition (so two kubelets never both win) and released once its new pod is Ready. Node selectors and affinity
/// are not evaluated: every DaemonSet runs on every node, as kube-flannel-ds does on Linux nodes.
/// </summary>
public sealed class DaemonSetKubelet(IKubernetes client, KubeletOptions o, TextWriter log)
{
    public const string GenerationAnnotation = "minikubelet.flannel.net/template-generation";
    public const string RollingAnnotation = "minikubelet.flannel.net/rolling";
    private readonly HashSet<string> _holdingRoll = new();
    private readonly Channel<object> _inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, RunningPod> _pods = new();

    private sealed record RunningPod(V1DaemonSet Ds, string PodName, string Uid, long Generation, PodRunner Runner);

    private sealed record StatusChanged(string Key, string Uid);

    private sealed record RollRetry(string Key);

    public static string PodName(string dsName, string node) =>
        $"{dsName}-{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(node)))[..5].ToLowerInvariant()}";

    public async Task RunAsync(CancellationToken ct)
    {
        Podman.RemoveLabelled(o.Label);
        var loop = new KubeListWatchLoop<V1DaemonSet>("daemonsets",
            async (token, limit, c) =>
            {
                var list = await client.AppsV1.ListDaemonSetForAllNamespacesAsync(continueParameter: token, limit: limit, cancellationToken: c);
                return (list.Items, list.Metadata?.ResourceVersion ?? "", list.Metadata?.ContinueProperty);
            },
            (version, onError, c) => client.AppsV1.WatchListDaemonSetForAllNamespacesAsync(resourceVersion: version, allowWatchBookmarks: true,
                timeoutSeconds: 300, onError: onError, cancellationToken: c),
            m => _inbox.Writer.TryWrite(m), KubeWatchOptions.Default, Akka.Event.NoLogger.Instance);
        var watching = loop.RunAsync(ct);
        try
        {
            await foreach (var message in _inbox.Reader.ReadAllAsync(ct))
            {
                try
                {
                    switch (message)
                    {
                        case KubeObjectChange<V1DaemonSet> { Type: KubeChangeType.Deleted } d:
                            _holdingRoll.Remove(Key(d.Object));
                            await StopAsync(Key(d.Object), deleteObject: true, ct);
                            break;
                        case KubeObjectChange<V1DaemonSet> c:
                            await ReconcileAsync(c.Object, ct);
                            break;
                        case StatusChanged s:
                            await PublishAsync(s, ct);
                            break;
                        case RollRetry r when _pods.TryGetValue(r.Key, out var p) && p.Generation != (p.Ds.Metadata.Generation ?? 0):
                            await ReconcileAsync(p.Ds, ct);
                            break;
                    }
                }
                catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException or InvalidOperationException or NotSupportedException or IOException)
                {
                    log.WriteLine($"mini-kubelet {o.NodeName}: {message.GetType().Name}: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            // Node shutdown: every pod stops gracefully (the agents leave the cluster), its object goes.
            foreach (var key in _pods.Keys.ToList()) await StopAsync(key, deleteObject: true, CancellationToken.None);
            try { await watching; } catch (OperationCanceledException) { }
        }
    }

    private static string Key(V1DaemonSet ds) => $"{ds.Metadata.NamespaceProperty}/{ds.Metadata.Name}";

    private async Task ReconcileAsync(V1DaemonSet ds, CancellationToken ct)
    {
        var key = Key(ds);
        var generation = ds.Metadata.Generation ?? 0;
        if (_pods.TryGetValue(key, out var current))
        {
            _pods[key] = current with { Ds = ds };
            if (current.Generation == generation) return;
            if (!await ClaimRollAsync(ds, current, ct))
            {
                _ = Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => _inbox.Writer.TryWrite(new RollRetry(key)), TaskScheduler.Default);
                return;
            }
            log.WriteLine($"mini-kubelet {o.NodeName}: {key} template generation {current.Generation} -> {generation}: replacing pod {current.PodName}");
            await StopAsync(key, deleteObject: true, ct);
        }
        var ns = ds.Metadata.NamespaceProperty;
        var name = PodName(ds.Metadata.Name, o.NodeName);
        var template = ds.Spec.Template;
        var spec = template.Spec;
        spec.NodeName = o.NodeName;
        var pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                Labels = template.Metadata?.Labels,
                Annotations = new Dictionary<string, string>(template.Metadata?.Annotations ?? new Dictionary<string, string>())
                {
                    [GenerationAnnotation] = generation.ToString(CultureInfo.InvariantCulture),
                },
                OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "DaemonSet", Name = ds.Metadata.Name, Uid = ds.Metadata.Uid, BlockOwnerDeletion = true, Controller = true }],
            },
            Spec = spec,
            Status = new V1PodStatus { Phase = "Pending", HostIP = o.NodeIp },
        };
        try { await client.CoreV1.DeleteNamespacedPodAsync(name, ns, cancellationToken: ct); }
        catch (k8s.Autorest.HttpOperationException e) when ((int)e.Response.StatusCode == 404) { }
        var created = await client.CoreV1.CreateNamespacedPodAsync(pod, ns, cancellationToken: ct);
        var uid = created.Metadata.Uid;
        var podDir = Path.Combine(o.StateDir, "pods", uid);
        var ctx = new PodContext(name, ns, uid, o.NodeName, o.NodeIp, o.Netns, new Dictionary<string, string>(),
            new Dictionary<string, string> { ["KUBERNETES_SERVICE_HOST"] = o.ServiceHost, ["KUBERNETES_SERVICE_PORT"] = o.ServicePort.ToString(CultureInfo.InvariantCulture) },
            ServiceAccount(podDir, ns), o.Label);
        var runner = new PodRunner(spec, ctx,
            async c => ctx with { Volumes = await new PodVolumes(client, o.HostRoot, podDir).PrepareAsync(spec, ns, c) },
            Path.Combine(podDir, "logs"), () => _inbox.Writer.TryWrite(new StatusChanged(key, uid)));
        _pods[key] = new RunningPod(ds, name, uid, generation, runner);
        log.WriteLine($"mini-kubelet {o.NodeName}: starting pod {ns}/{name} of {key} (generation {generation})");
        runner.Start();
    }

    /// <summary>The projected service account volume: a token (not checked by the test server), the API CA, the namespace.</summary>
    private string ServiceAccount(string podDir, string ns)
    {
        var dir = Path.Combine(podDir, "serviceaccount");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "token"), $"mini-kubelet-{o.NodeName}");
        File.Copy(o.ServiceCaFile, Path.Combine(dir, "ca.crt"), overwrite: true);
        File.WriteAllText(Path.Combine(dir, "namespace"), ns);
        return dir;
    }

    private async Task StopAsync(string key, bool deleteObject, CancellationToken ct)
    {
        if (!_pods.Remove(key, out var p)) return;
        log.WriteLine($"mini-kubelet {o.NodeName}: stopping pod {p.PodName}");
        await p.Runner.StopAsync();
        if (!deleteObject) return;
        try { await client.CoreV1.DeleteNamespacedPodAsync(p.PodName, p.Ds.Metadata.NamespaceProperty, cancellationToken: ct); }
        catch (k8s.Autorest.HttpOperationException e) when ((int)e.Response.StatusCode == 404) { }
        await PublishDaemonSetStatusAsync(p.Ds, ct);
    }

    private async Task PublishAsync(StatusChanged s, CancellationToken ct)
    {
        if (!_pods.TryGetValue(s.Key, out var p) || p.Uid != s.Uid) return;
        var status = p.Runner.Status();
        await client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(new { status }, V1Patch.PatchType.MergePatch), p.PodName,
            p.Ds.Metadata.NamespaceProperty, cancellationToken: ct);
        await PublishDaemonSetStatusAsync(p.Ds, ct);
        if (_holdingRoll.Contains(s.Key) && p.Runner.AllReady)
        {
            // The new pod is Ready: the next node may roll.
            await PatchRollAnnotationAsync(p.Ds, null, null, ct);
            _holdingRoll.Remove(s.Key);
            log.WriteLine($"mini-kubelet {o.NodeName}: {s.Key} rolled here; released the roll");
        }
    }

    /// <summary>
    /// May this node replace its pod now? Only when every other pod of the DaemonSet is Ready and this node holds the
    /// roll annotation (taken here with a resourceVersion precondition: of two kubelets claiming at once, one gets 409).
    /// </summary>
    private async Task<bool> ClaimRollAsync(V1DaemonSet ds, RunningPod mine, CancellationToken ct)
    {
        var key = Key(ds);
        if (_holdingRoll.Contains(key)) return true;
        var fresh = await client.AppsV1.ReadNamespacedDaemonSetAsync(ds.Metadata.Name, ds.Metadata.NamespaceProperty, cancellationToken: ct);
        var holder = fresh.Metadata.Annotations is { } a && a.TryGetValue(RollingAnnotation, out var h) ? h : null;
        if (holder is not null && holder != o.NodeName) return false;
        var selector = string.Join(',', (ds.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>()).Select(kv => $"{kv.Key}={kv.Value}"));
        var others = (await client.CoreV1.ListNamespacedPodAsync(ds.Metadata.NamespaceProperty, labelSelector: selector, cancellationToken: ct)).Items
            .Where(p => p.Metadata.Name != mine.PodName && p.Metadata.OwnerReferences?.Any(r => r.Uid == ds.Metadata.Uid) == true).ToList();
        if (others.Any(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") != true)) return false;
        try
        {
            await PatchRollAnnotationAsync(ds, o.NodeName, fresh.Metadata.ResourceVersion, ct);
        }
        catch (k8s.Autorest.HttpOperationException e) when ((int)e.Response.StatusCode == 409)
        {
            return false;
        }
        _holdingRoll.Add(key);
        return true;
    }

    private Task PatchRollAnnotationAsync(V1DaemonSet ds, string? node, string? resourceVersion, CancellationToken ct)
    {
        var metadata = new Dictionary<string, object?> { ["annotations"] = new Dictionary<string, string?> { [RollingAnnotation] = node } };
        if (resourceVersion is not null) metadata["resourceVersion"] = resourceVersion;
        return client.AppsV1.PatchNamespacedDaemonSetAsync(new V1Patch(new { metadata }, V1Patch.PatchType.MergePatch), ds.Metadata.Name,
            ds.Metadata.NamespaceProperty, cancellationToken: ct);
    }

    /// <summary>The counts `kubectl describe ds` prints, from the pods the DaemonSet owns and the nodes there are.</summary>
    private async Task PublishDaemonSetStatusAsync(V1DaemonSet ds, CancellationToken ct)
    {
        var selector = string.Join(',', (ds.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>()).Select(kv => $"{kv.Key}={kv.Value}"));
        var pods = (await client.CoreV1.ListNamespacedPodAsync(ds.Metadata.NamespaceProperty, labelSelector: selector, cancellationToken: ct)).Items
            .Where(p => p.Metadata.OwnerReferences?.Any(r => r.Uid == ds.Metadata.Uid) == true).ToList();
        var nodes = (await client.CoreV1.ListNodeAsync(cancellationToken: ct)).Items.Count;
        var generation = (ds.Metadata.Generation ?? 0).ToString(CultureInfo.InvariantCulture);
        var ready = pods.Count(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        var status = new
        {
            desiredNumberScheduled = nodes,
            currentNumberScheduled = pods.Count,
            numberMisscheduled = 0,
            numberReady = ready,
            numberAvailable = ready,
            numberUnavailable = Math.Max(0, nodes - ready),
            updatedNumberScheduled = pods.Count(p => (p.Metadata.Annotations is { } a && a.TryGetValue(GenerationAnnotation, out var g) ? g : null) == generation),
            observedGeneration = ds.Metadata.Generation ?? 0,
        };
        try
        {
            await client.AppsV1.PatchNamespacedDaemonSetStatusAsync(new V1Patch(new { status }, V1Patch.PatchType.MergePatch), ds.Metadata.Name,
                ds.Metadata.NamespaceProperty, cancellationToken: ct);
        }
        catch (k8s.Autorest.HttpOperationException e) when ((int)e.Response.StatusCode == 404) { }
    }
}
