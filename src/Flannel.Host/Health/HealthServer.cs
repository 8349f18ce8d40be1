using System.Net;
using Flannel.Actors.Node;

namespace Flannel.Host.Health;

/// <summary>
/// flannel's health endpoint on --healthz-ip:--healthz-port: GET /healthz is 200 while the process runs, GET /readyz is
/// 503 (with the reasons) until the lease is held, the backend is up, subnet.env is written and every known peer is
/// programmed, then 200; <c>mapMore</c> adds e.g. /metrics. The agent's full status is not served here (the port may
/// listen on any address): it is `flanneld ctl status`, behind the root-only command socket.
/// </summary>
public sealed class HealthServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HealthServer(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public static async Task<HealthServer> StartAsync(IPEndPoint endpoint, AgentStatus status, Action<WebApplication>? mapMore,
        CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint));
        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () =>
        {
            var s = status.Current;
            return s.Ready
                ? Results.Text("ok\n")
                : Results.Text("not ready: " + string.Join("; ", s.NotReadyReasons) + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        mapMore?.Invoke(app);
        await app.StartAsync(ct).ConfigureAwait(false);
        return new HealthServer(app, endpoint);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        await _app.StopAsync(cts.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
