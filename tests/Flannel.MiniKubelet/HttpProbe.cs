using k8s.Models;

namespace Flannel.MiniKubelet;

/// <summary>A container's httpGet probe, as kubelet runs it: GET http://podIP:port/path, success = 200-399 within timeoutSeconds.</summary>
public static class HttpProbe
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(5) });

    public static async Task<bool> CheckAsync(V1Probe probe, V1Container c, string podIp, CancellationToken ct)
    {
        var get = probe.HttpGet ?? throw new NotSupportedException($"container {c.Name}: only httpGet probes are supported by the minimal kubelet");
        var port = Port(get.Port, c);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(probe.TimeoutSeconds ?? 1));
        try
        {
            using var r = await Client.GetAsync($"{(get.Scheme ?? "HTTP").ToLowerInvariant()}://{podIp}:{port}{get.Path ?? "/"}", timeout.Token);
            return (int)r.StatusCode is >= 200 and < 400;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private static int Port(IntOrString port, V1Container c)
    {
        var v = port.Value;
        if (int.TryParse(v, out var n)) return n;
        return c.Ports?.FirstOrDefault(p => p.Name == v)?.ContainerPort
               ?? throw new InvalidOperationException($"container {c.Name}: probe port {v} names no container port");
    }
}
