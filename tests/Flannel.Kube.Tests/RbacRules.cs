using Flannel.Kube.TestServer;
using k8s.Models;

namespace Flannel.Kube.Tests;

/// <summary>
/// Kubernetes RBAC's decision for one service account, as the API server's authorizer makes it for core-group
/// requests: cluster rules (ClusterRole via ClusterRoleBinding) apply everywhere, namespaced rules (Role via RoleBinding)
/// only to requests in the Role's namespace; a rule with resourceNames allows only requests that name one of them
/// (a list or watch names an object through a metadata.name field selector).
/// </summary>
public sealed class RbacRules(IEnumerable<V1PolicyRule> clusterRules, string roleNamespace, IEnumerable<V1PolicyRule> namespacedRules)
{
    private readonly List<V1PolicyRule> _cluster = clusterRules.ToList();
    private readonly List<V1PolicyRule> _namespaced = namespacedRules.ToList();

    public bool Allows(ApiRequest r) =>
        _cluster.Any(rule => Matches(rule, r)) || (r.Namespace == roleNamespace && _namespaced.Any(rule => Matches(rule, r)));

    /// <summary>Every (resource, verb[, name]) a rule set grants, e.g. "configmaps:get:kube-flannel-cfg", sorted.</summary>
    public static IReadOnlyList<string> Grants(IEnumerable<V1PolicyRule> rules) =>
        rules.SelectMany(rule => rule.Resources.SelectMany(res => rule.Verbs.SelectMany(verb =>
                rule.ResourceNames is { Count: > 0 } names
                    ? names.Select(n => $"{res}:{verb}:{n}")
                    : [$"{res}:{verb}"])))
            .Order(StringComparer.Ordinal).ToList();

    private static bool Matches(V1PolicyRule rule, ApiRequest r) =>
        rule.ApiGroups.Contains("")
        && rule.Resources.Contains(r.ResourceWithSubresource)
        && rule.Verbs.Contains(r.Verb)
        && (rule.ResourceNames is not { Count: > 0 } names || (r.Name is not null && names.Contains(r.Name)));
}
