namespace Flannel.Kube.TestServer;

/// <summary>A resource the server knows: how it is addressed, listed and described in discovery. <paramref name="Group"/> is
/// empty for core/v1 (served under /api/v1), else served under /apis/{Group}/v1.</summary>
public sealed record ResourceType(string Plural, string Kind, bool Namespaced, string[] Verbs, string[] ShortNames, bool HasStatus, string Group = "")
{
    public string ListKind => Kind + "List";

    /// <summary>The apiVersion of its objects: "v1" or "{group}/v1".</summary>
    public string ApiVersion => Group.Length == 0 ? "v1" : Group + "/v1";

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

    public static readonly IReadOnlyList<ResourceType> All = [Nodes, Pods, ConfigMaps, Events, Namespaces, .. TutorialResourceTypes.All];

    public static ResourceType? ByPlural(string plural) => All.FirstOrDefault(r => r.Plural == plural);

    public static ResourceType? ByKind(string kind) => All.FirstOrDefault(r => r.Kind == kind);
}
