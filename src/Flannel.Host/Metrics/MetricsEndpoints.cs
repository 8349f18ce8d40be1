using Flannel.Host.Health;

namespace Flannel.Host.Metrics;

public static class MetricsEndpoints
{
    /// <summary>Prometheus' text exposition format (version 0.0.4), what prometheus-net writes.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The health port's routes that serve <paramref name="metrics"/>' registry at <paramref name="path"/>.</summary>
    public static IReadOnlyDictionary<string, HealthHandler> Routes(FlannelMetrics metrics, string path = "/metrics") =>
        new Dictionary<string, HealthHandler>
        {
            [path] = async ct =>
            {
                using var stream = new MemoryStream();
                await metrics.Registry.CollectAndExportAsTextAsync(stream, ct).ConfigureAwait(false);
                return new HealthResponse(200, ContentType, stream.ToArray());
            },
        };
}
