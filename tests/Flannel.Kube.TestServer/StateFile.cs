using k8s;

namespace Flannel.Kube.TestServer;

/// <summary>Seed state: multi-document YAML of core/v1 objects, read with KubernetesClient's own YAML loader.</summary>
public static class StateFile
{
    public static IReadOnlyList<IKubernetesObject> Parse(string yaml)
    {
        var objects = new List<IKubernetesObject>();
        foreach (var doc in KubernetesYaml.LoadAllFromString(yaml))
        {
            if (doc is not IKubernetesObject k) throw new FormatException($"state document of type {doc?.GetType().Name ?? "null"} is not a Kubernetes object");
            if (ResourceType.ByKind(k.Kind) is null) throw new FormatException($"state document kind \"{k.Kind}\" is not served (served: {string.Join(", ", ResourceType.All.Select(r => r.Kind))})");
            objects.Add(k);
        }
        return objects;
    }
}
