using System.Text.Json;
using k8s.Models;

namespace Flannel.MiniKubelet;

/// <summary>Where a pod runs and what the kubelet made for it: the inputs of <see cref="ContainerArgs.For"/>.</summary>
/// <param name="Volumes">Volume name -> the host path that holds it (hostPath mapped into the node's root, or the
/// directory the kubelet wrote a ConfigMap/Secret/projected volume into).</param>
/// <param name="ServiceEnv">What a kubelet adds to every container: KUBERNETES_SERVICE_HOST/PORT.</param>
/// <param name="ServiceAccountDir">token, ca.crt, namespace: mounted read-only at the service account path.</param>
public sealed record PodContext(string PodName, string Namespace, string Uid, string NodeName, string NodeIp, string HostNetns,
    IReadOnlyDictionary<string, string> Volumes, IReadOnlyDictionary<string, string> ServiceEnv, string? ServiceAccountDir, string Label)
{
    public string ContainerName(string container) => $"k8s_{container}_{PodName}_{Namespace}_{Uid[..8]}";
}

/// <summary>
/// The `podman run` arguments of one container of a pod, exactly as the pod spec says and nothing more: command and args,
/// env (downward API fieldRefs filled in), hostNetwork = the namespace host's network, capabilities = drop all then
/// add the securityContext's (privileged only when asked), the pod's volumes mounted where the container asks.
/// Anything the minimal kubelet cannot do faithfully is refused with the field named.
/// </summary>
public static class ContainerArgs
{
    public const string ServiceAccountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    public static IReadOnlyList<string> For(V1PodSpec spec, V1Container c, PodContext ctx, bool detached)
    {
        var a = new List<string> { "run", detached ? "-d" : "--rm=false", "--name", ctx.ContainerName(c.Name), "--pull", "never",
            "--label", ctx.Label, "--label", $"io.kubernetes.pod.name={ctx.PodName}", "--label", $"io.kubernetes.container.name={c.Name}" };
        a.AddRange(Podman.RunLimits);
        if (spec.HostNetwork != true)
            throw new NotSupportedException($"pod {ctx.PodName}: spec.hostNetwork must be true (the minimal kubelet runs DaemonSet pods on the host's network only)");
        a.AddRange(["--network", $"ns:/var/run/netns/{ctx.HostNetns}", "--hostname", ctx.NodeName]);
        a.AddRange(["--stop-timeout", (spec.TerminationGracePeriodSeconds ?? 30).ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        var sc = c.SecurityContext;
        if (sc?.Privileged == true) a.Add("--privileged");
        else
        {
            a.AddRange(["--cap-drop", "all"]);
            foreach (var cap in sc?.Capabilities?.Add ?? []) a.AddRange(["--cap-add", cap]);
        }
        if (sc?.RunAsUser is { } uid) a.AddRange(["--user", uid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        foreach (var (k, v) in ctx.ServiceEnv) a.AddRange(["--env", $"{k}={v}"]);
        var i = 0;
        foreach (var e in c.Env ?? [])
        {
            a.AddRange(["--env", $"{e.Name}={EnvValue(e, ctx, $"{c.Name}.env[{i}]")}"]);
            i++;
        }
        if (c.EnvFrom is { Count: > 0 }) throw new NotSupportedException($"container {c.Name}: envFrom is not supported by the minimal kubelet");

        if (ctx.ServiceAccountDir is not null && spec.AutomountServiceAccountToken != false)
            a.AddRange(["-v", $"{ctx.ServiceAccountDir}:{ServiceAccountPath}:ro"]);
        foreach (var m in c.VolumeMounts ?? [])
        {
            if (!ctx.Volumes.TryGetValue(m.Name, out var source))
                throw new InvalidOperationException($"container {c.Name}: volumeMounts[{m.Name}]: no volume named {m.Name} in spec.volumes");
            if (!string.IsNullOrEmpty(m.SubPath)) source = Path.Combine(source, m.SubPath);
            a.AddRange(["-v", $"{source}:{m.MountPath.TrimEnd('/')}{(m.ReadOnlyProperty == true ? ":ro" : "")}"]);
        }
        if (!string.IsNullOrEmpty(c.WorkingDir)) a.AddRange(["--workdir", c.WorkingDir]);
        if (c.Command is { Count: > 0 }) a.AddRange(["--entrypoint", JsonSerializer.Serialize(c.Command)]);
        a.Add(c.Image);
        a.AddRange(c.Args ?? []);
        return a;
    }

    /// <summary>A literal value, or a downward API field of this pod.</summary>
    public static string EnvValue(V1EnvVar e, PodContext ctx, string field)
    {
        if (e.ValueFrom is null) return e.Value ?? "";
        if (e.ValueFrom.FieldRef is { } f)
        {
            return f.FieldPath switch
            {
                "metadata.name" => ctx.PodName,
                "metadata.namespace" => ctx.Namespace,
                "metadata.uid" => ctx.Uid,
                "spec.nodeName" => ctx.NodeName,
                "status.podIP" or "status.hostIP" => ctx.NodeIp,
                _ => throw new NotSupportedException($"{field}.valueFrom.fieldRef.fieldPath: {f.FieldPath} is not supported by the minimal kubelet"),
            };
        }
        throw new NotSupportedException($"{field}.valueFrom: only fieldRef is supported by the minimal kubelet");
    }
}
