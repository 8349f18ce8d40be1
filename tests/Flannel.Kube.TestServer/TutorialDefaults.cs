using System.Text.Json.Nodes;

namespace Flannel.Kube.TestServer;

/// <summary>
/// What a real API server fills into a DaemonSet on write, as far as kubectl and the minimal kubelet read it: the
/// downward API's fieldRef.apiVersion ("v1", which `kubectl describe` prints as "(v1:metadata.name)"), the probes'
/// timeout, period and thresholds, and
/// metadata.generation (1 on create, +1 on each spec change: the kubelet rolls its pod when it moves).
/// </summary>
public static class TutorialDefaults
{
    public static void Apply(ResourceType type, JsonObject? current, JsonObject updated)
    {
        if (type != TutorialResourceTypes.DaemonSets) return;
        var podSpec = updated["spec"]?["template"]?["spec"] as JsonObject;
        foreach (var list in new[] { "initContainers", "containers" })
            foreach (var container in (podSpec?[list] as JsonArray ?? []).OfType<JsonObject>())
                foreach (var env in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
                    if (env["valueFrom"]?["fieldRef"] is JsonObject fieldRef && fieldRef["apiVersion"] is null)
                        fieldRef["apiVersion"] = "v1";
        foreach (var list in new[] { "initContainers", "containers" })
            foreach (var container in (podSpec?[list] as JsonArray ?? []).OfType<JsonObject>())
                foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" }.Select(p => container[p]).OfType<JsonObject>())
                {
                    // The probe fields' API defaults (what `kubectl describe` prints as timeout=1s #success=1).
                    probe["timeoutSeconds"] ??= 1;
                    probe["periodSeconds"] ??= 10;
                    probe["successThreshold"] ??= 1;
                    probe["failureThreshold"] ??= 3;
                }
        var meta = updated["metadata"]!.AsObject();
        var generation = current?["metadata"]?["generation"]?.GetValue<long>() ?? 0;
        meta["generation"] = current is null ? 1 : JsonNode.DeepEquals(current["spec"], updated["spec"]) ? generation : generation + 1;
    }
}
