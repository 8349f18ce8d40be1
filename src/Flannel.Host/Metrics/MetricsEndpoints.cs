using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Flannel.Host.Metrics;

public static class MetricsEndpoints
{
    /// <summary>Serves <paramref name="metrics"/>' registry in the Prometheus text format at <paramref name="pattern"/>.</summary>
    public static IEndpointConventionBuilder MapFlannelMetrics(
        this IEndpointRouteBuilder endpoints, FlannelMetrics metrics, string pattern = "/metrics") =>
        endpoints.MapMetrics(pattern, metrics.Registry);
}
