using System.Net;
using System.Net.Sockets;
using Flannel.Actors.Node;

namespace Flannel.Host.Health;

/// <summary>Answers one path of the health port.</summary>
public delegate Task<HealthResponse> HealthHandler(CancellationToken ct);

/// <summary>
/// flannel's health endpoint on --healthz-ip:--healthz-port: GET /healthz is 200 while the process runs, GET /readyz is
/// 503 (with the reasons) until the lease is held, the backend is up, subnet.env is written and every known peer is
/// programmed, then 200; <c>more</c> adds e.g. /metrics. The agent's full status is not served here (the port may
/// listen on any address): it is `flanneld ctl status`, behind the root-only command socket.
/// A minimal HTTP/1.1 server on a socket (one request per connection, then close), not ASP.NET Kestrel: Kestrel and the
/// ASP.NET assemblies cost the idle agent about 15 MiB of RSS and 2 threads for three fixed paths
/// (bench/footprint/RESULTS.md). Requests are GET or HEAD with a head of at most 8 KiB that arrives within 5 s; at most
/// 16 connections are served at once (more are closed at accept), so a stranger on the port cannot pile up memory.
/// </summary>
public sealed class HealthServer : IAsyncDisposable
{
    public const int MaxConnections = 16;
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly IReadOnlyDictionary<string, HealthHandler> _routes;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections);
    private readonly Task _accepting;

    private HealthServer(Socket listener, IReadOnlyDictionary<string, HealthHandler> routes)
    {
        _listener = listener;
        _routes = routes;
        Endpoint = (IPEndPoint)listener.LocalEndPoint!;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where the server listens (the bound port when the requested one was 0).</summary>
    public IPEndPoint Endpoint { get; }

    public static Task<HealthServer> StartAsync(IPEndPoint endpoint, AgentStatus status,
        IReadOnlyDictionary<string, HealthHandler>? more, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var routes = new Dictionary<string, HealthHandler>(StringComparer.Ordinal)
        {
            ["/healthz"] = _ => Task.FromResult(HealthResponse.Text(200, "ok\n")),
            ["/readyz"] = _ =>
            {
                var s = status.Current;
                return Task.FromResult(s.Ready
                    ? HealthResponse.Text(200, "ok\n")
                    : HealthResponse.Text(503, "not ready: " + string.Join("; ", s.NotReadyReasons) + "\n"));
            },
        };
        foreach (var (path, handler) in more ?? new Dictionary<string, HealthHandler>()) routes[path] = handler;
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A restarted agent binds again while closed connections of the last one linger in TIME_WAIT.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(endpoint);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return Task.FromResult(new HealthServer(listener, routes));
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // the connection was reset before it was accepted
            }
            if (!_slots.Wait(0))
            {
                client.Dispose(); // MaxConnections busy: refuse by closing
                continue;
            }
            _ = Task.Run(async () =>
            {
                try { await ServeAsync(client).ConfigureAwait(false); }
                finally
                {
                    client.Dispose();
                    _slots.Release();
                }
            });
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            var (head, response) = await ReadRequestAsync(client, timeout.Token).ConfigureAwait(false);
            if (response is null) return; // closed by the client before a full head
            await client.SendAsync(response.Head(), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            if (head?.Method != "HEAD" && response.Body.Length > 0)
                await client.SendAsync(response.Body, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
        }
        // A client that disconnects or stalls costs nothing more than its connection: nothing to report.
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    private async Task<(HttpRequestHead? Head, HealthResponse? Response)> ReadRequestAsync(Socket client, CancellationToken ct)
    {
        var buffer = new byte[HttpRequestHead.MaxHeadBytes];
        var filled = 0;
        int headLength;
        while ((headLength = HttpRequestHead.HeadLength(buffer.AsSpan(0, filled))) < 0)
        {
            if (filled == buffer.Length)
                return (null, HealthResponse.Text(431, $"request head longer than {HttpRequestHead.MaxHeadBytes} bytes\n"));
            int n;
            try
            {
                n = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                return (null, HealthResponse.Text(408, $"request head not received within {RequestTimeout.TotalSeconds:0} s\n"));
            }
            if (n == 0) return (null, null);
            filled += n;
        }
        var head = HttpRequestHead.Parse(buffer.AsSpan(0, headLength), out var error);
        if (head is null) return (null, HealthResponse.Text(400, $"bad request: {error}\n"));
        if (head.Method is not ("GET" or "HEAD")) return (head, HealthResponse.Text(405, $"method {head.Method} not allowed: GET or HEAD\n"));
        if (!_routes.TryGetValue(head.Path, out var handler)) return (head, HealthResponse.Text(404, "not found\n"));
        return (head, await handler(ct).ConfigureAwait(false));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }
}
