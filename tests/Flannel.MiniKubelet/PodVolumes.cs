using System.Text;
using k8s;
using k8s.Models;

namespace Flannel.MiniKubelet;

/// <summary>
/// Materialises a pod's volumes on its node. hostPath: the node's file system is <paramref name="hostRoot"/> (every
/// namespace host shares this machine's disk, so each gets its own root), with the volume's type honoured
/// (DirectoryOrCreate, FileOrCreate, Directory, File; CharDevice is the machine's own device node, which all hosts share).
/// configMap, secret and projected: the keys written as files under the pod's directory, with their modes.
/// </summary>
public sealed class PodVolumes(IKubernetes client, string hostRoot, string podDir)
{
    public async Task<IReadOnlyDictionary<string, string>> PrepareAsync(V1PodSpec spec, string ns, CancellationToken ct)
    {
        var result = new Dictionary<string, string>();
        foreach (var v in spec.Volumes ?? [])
        {
            var field = $"spec.volumes[{v.Name}]";
            if (v.HostPath is { } hp) result[v.Name] = HostPath(hp, field);
            else if (v.ConfigMap is { } cm)
            {
                var dir = Fresh(v.Name);
                await WriteConfigMapAsync(dir, cm.Name, ns, cm.Items, cm.DefaultMode, cm.Optional == true, ct);
                result[v.Name] = dir;
            }
            else if (v.Secret is { } s)
            {
                var dir = Fresh(v.Name);
                await WriteSecretAsync(dir, s.SecretName, ns, s.Items, s.DefaultMode, s.Optional == true, ct);
                result[v.Name] = dir;
            }
            else if (v.Projected is { } p)
            {
                var dir = Fresh(v.Name);
                foreach (var src in p.Sources ?? [])
                {
                    if (src.ConfigMap is { } pc) await WriteConfigMapAsync(dir, pc.Name, ns, pc.Items, p.DefaultMode, pc.Optional == true, ct);
                    else if (src.Secret is { } ps) await WriteSecretAsync(dir, ps.Name, ns, ps.Items, p.DefaultMode, ps.Optional == true, ct);
                    else throw new NotSupportedException($"{field}.projected: only configMap and secret sources are supported by the minimal kubelet");
                }
                result[v.Name] = dir;
            }
            else if (v.EmptyDir is not null) result[v.Name] = Fresh(v.Name);
            else throw new NotSupportedException($"{field}: only hostPath, configMap, secret, projected and emptyDir volumes are supported by the minimal kubelet");
        }
        return result;
    }

    private string HostPath(V1HostPathVolumeSource hp, string field)
    {
        var type = hp.Type ?? "";
        if (type == "CharDevice")
        {
            if (!File.Exists(hp.Path)) throw new InvalidOperationException($"{field}.hostPath: {hp.Path} is not a device on this node");
            return hp.Path;
        }
        var path = Path.Join(hostRoot, hp.Path);
        switch (type)
        {
            case "DirectoryOrCreate": Directory.CreateDirectory(path); break;
            case "FileOrCreate":
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                if (!File.Exists(path)) File.WriteAllBytes(path, []);
                break;
            case "Directory" when !Directory.Exists(path): throw new InvalidOperationException($"{field}.hostPath: directory {hp.Path} does not exist on the node");
            case "File" when !File.Exists(path): throw new InvalidOperationException($"{field}.hostPath: file {hp.Path} does not exist on the node");
            case "" or "Directory" or "File": break;
            default: throw new NotSupportedException($"{field}.hostPath.type: {type} is not supported by the minimal kubelet");
        }
        return path;
    }

    private string Fresh(string name)
    {
        var dir = Path.Combine(podDir, "volumes", name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private async Task WriteConfigMapAsync(string dir, string name, string ns, IList<V1KeyToPath>? items, int? mode, bool optional, CancellationToken ct)
    {
        V1ConfigMap cm;
        try { cm = await client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: ct); }
        catch (k8s.Autorest.HttpOperationException e) when (optional && (int)e.Response.StatusCode == 404) { return; }
        var data = (cm.Data ?? new Dictionary<string, string>()).ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value));
        Write(dir, data, items, mode ?? 420, $"configMap {name}");
    }

    private async Task WriteSecretAsync(string dir, string name, string ns, IList<V1KeyToPath>? items, int? mode, bool optional, CancellationToken ct)
    {
        V1Secret s;
        try { s = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct); }
        catch (k8s.Autorest.HttpOperationException e) when (optional && (int)e.Response.StatusCode == 404) { return; }
        Write(dir, s.Data ?? new Dictionary<string, byte[]>(), items, mode ?? 420, $"secret {name}");
    }

    private static void Write(string dir, IDictionary<string, byte[]> data, IList<V1KeyToPath>? items, int mode, string what)
    {
        var chosen = items is { Count: > 0 }
            ? items.Select(i => (i.Key, i.Path, Mode: i.Mode ?? mode))
            : data.Keys.Select(k => (Key: k, Path: k, Mode: mode));
        foreach (var (key, rel, m) in chosen)
        {
            if (!data.TryGetValue(key, out var bytes)) throw new InvalidOperationException($"{what}: no key {key}");
            var file = Path.Combine(dir, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, bytes);
            File.SetUnixFileMode(file, (UnixFileMode)m);
        }
    }
}
