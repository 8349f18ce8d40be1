namespace Flannel.Kube.TestServer;

/// <summary>A core/v1 resource the server knows: how it is addressed, listed and described in discovery.</summary>
public sealed record ResourceType(string Plural, string Kind, bool Namespaced, string[] Verbs, string[] ShortNames, bool HasStatus)
{
    public string ListKind => Kind + "List";

    public static readonly ResourceType Nodes = new("nodes", "Node", false,
        ["create", "delete", "get", "list", "patch", "update", "watch"], ["no"], true);

    public static readonly ResourceType Pods = new("pods", "Pod", true,
        ["create", "delete", "get", "list", "patch", "update", "watch"], ["po"], true);

    public static readonly ResourceType ConfigMaps = new("configmaps", "ConfigMap", true,
        ["create", "delete", "get", "list", "patch", "update", "watch"], ["cm"], false);

    public static readonly ResourceType Events = new("events", "Event", true,
        ["create", "delete", "get", "list", "patch", "update", "watch"], ["ev"], false);

    public static readonly ResourceType Namespaces = new("namespaces", "Namespace", false,
        ["create", "delete", "get", "list", "patch", "update", "watch"], ["ns"], true);

    public static readonly IReadOnlyList<ResourceType> All = [Nodes, Pods, ConfigMaps, Events, Namespaces];

    public static ResourceType? ByPlural(string plural) => All.FirstOrDefault(r => r.Plural == plural);

    public static ResourceType? ByKind(string kind) => All.FirstOrDefault(r => r.Kind == kind);
}
