using Flannel.Net.Namespaces;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Flannel.Host.Health;

namespace Flannel.Host.Demo;

/// <summary>HTTP to an agent's health endpoints inside its host namespace (sockets made in that namespace).</summary>
public sealed class AgentClient : IDisposable
{
    private readonly NamespaceThread _ns;
    private readonly HttpClient _http;

    public AgentClient(string ns, int port)
    {
        _ns = new NamespaceThread(ns);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (ctx, ct) =>
            {
                var socket = _ns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, ctx.DnsEndPoint.Port), ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            PooledConnectionLifetime = TimeSpan.FromSeconds(5),
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(5) };
    }

    /// <summary>/readyz: 200 = ready; null when the agent does not answer (not up yet, or gone).</summary>
    public async Task<(bool Ready, string Body)?> ReadyAsync(CancellationToken ct = default)
    {
        try
        {
            using var r = await _http.GetAsync("readyz", ct).ConfigureAwait(false);
            return (r.IsSuccessStatusCode, (await r.Content.ReadAsStringAsync(ct).ConfigureAwait(false)).Trim());
        }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return null; }
    }

    public async Task<bool> AliveAsync(CancellationToken ct = default)
    {
        try
        {
            using var r = await _http.GetAsync("healthz", ct).ConfigureAwait(false);
            return r.IsSuccessStatusCode;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return false; }
    }

    public async Task<StatusView> StatusAsync(CancellationToken ct = default) =>
        await _http.GetFromJsonAsync<StatusView>("status", HealthServer.Json, ct).ConfigureAwait(false)
        ?? throw new InvalidOperationException("empty /status");

    public void Dispose()
    {
        _http.Dispose();
        _ns.Dispose();
    }
}
