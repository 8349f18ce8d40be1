using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Flannel.Actors.Cmd;
using Flannel.Host.Ctl;
using Flannel.Host.Health;

namespace Flannel.Demo;

/// <summary>
/// An agent seen from outside: HTTP to its health endpoints inside its host namespace (sockets made in that namespace),
/// and its status through its command socket (a Unix socket with a file-system path is reachable from any namespace).
/// </summary>
public sealed class AgentClient : IDisposable
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(5);
    private readonly NamespaceThread _ns;
    private readonly HttpClient _http;
    private readonly UnixDomainSocketEndPoint _cmdSocket;

    public AgentClient(string ns, int port, string cmdSocket)
    {
        _cmdSocket = new UnixDomainSocketEndPoint(cmdSocket);
        _ns = new NamespaceThread(ns);
        var handler = NamespaceHttp.Handler(_ns);
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

    /// <summary>/metrics as Prometheus text; null when the agent does not answer.</summary>
    public async Task<string?> MetricsAsync(CancellationToken ct = default)
    {
        try
        {
            using var r = await _http.GetAsync("metrics", ct).ConfigureAwait(false);
            return r.IsSuccessStatusCode ? await r.Content.ReadAsStringAsync(ct).ConfigureAwait(false) : null;
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

    /// <summary>
    /// `flanneld ctl status` over the agent's command socket. Throws <see cref="CtlUnavailableException"/> when the
    /// agent does not answer (not up yet, or gone) and <see cref="InvalidOperationException"/> when it refuses.
    /// </summary>
    public async Task<StatusView> StatusAsync(CancellationToken ct = default)
    {
        await foreach (var response in CtlClient.SendAsync(_cmdSocket, CmdRequest.Of(CmdPalettes.Status, "show"), StatusTimeout, ct)
                           .ConfigureAwait(false))
        {
            if (response.Kind != CtlWire.Kinds.Result)
                throw new InvalidOperationException($"status from {_cmdSocket}: {response.Error ?? response.Kind}");
            return response.Data.Deserialize<StatusView>(CtlWire.Json)
                   ?? throw new InvalidOperationException($"status from {_cmdSocket}: no data");
        }
        throw new CtlUnavailableException($"the command host at {_cmdSocket} closed the connection without an answer");
    }

    public void Dispose()
    {
        _http.Dispose();
        _ns.Dispose();
    }
}
