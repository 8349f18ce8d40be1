namespace Flannel.Kube.TestServer;

/// <summary>
/// The kinds deploy/kube-flannel.yml and the seed tutorial's kubectl steps need beyond the agents' own (nodes, pods,
/// configmaps, events, namespaces): ServiceAccount and Secret in core/v1, RBAC, and the apps/v1 DaemonSet. Stored and
/// served like the others (get/list/watch/create/update/patch/delete); nothing enforces RBAC or runs the DaemonSet
/// here: the minimal kubelet does that on each namespace host.
/// </summary>
public static class TutorialResourceTypes
{
    public const string Rbac = "rbac.authorization.k8s.io";
    public const string Apps = "apps";

    private static readonly string[] AllVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public static readonly ResourceType ServiceAccounts = new("serviceaccounts", "ServiceAccount", true, AllVerbs, ["sa"], false);
    public static readonly ResourceType Secrets = new("secrets", "Secret", true, AllVerbs, [], false);
    public static readonly ResourceType ClusterRoles = new("clusterroles", "ClusterRole", false, AllVerbs, [], false, Rbac);
    public static readonly ResourceType ClusterRoleBindings = new("clusterrolebindings", "ClusterRoleBinding", false, AllVerbs, [], false, Rbac);
    public static readonly ResourceType Roles = new("roles", "Role", true, AllVerbs, [], false, Rbac);
    public static readonly ResourceType RoleBindings = new("rolebindings", "RoleBinding", true, AllVerbs, [], false, Rbac);
    public static readonly ResourceType DaemonSets = new("daemonsets", "DaemonSet", true, AllVerbs, ["ds"], true, Apps);

    public static readonly IReadOnlyList<ResourceType> All = [ServiceAccounts, Secrets, ClusterRoles, ClusterRoleBindings, Roles, RoleBindings, DaemonSets];

    /// <summary>The API groups served under /apis, each at version v1 only.</summary>
    public static readonly IReadOnlyList<string> Groups = [Apps, Rbac];
}
