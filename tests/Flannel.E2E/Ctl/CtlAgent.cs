using Flannel.Testing;
using Flannel.Demo;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Flannel.E2E.Agent;
using Flannel.Host.Ctl;

namespace Flannel.E2E.Ctl;

/// <summary>Runs `flanneld ctl` inside a host's namespace (against that host's command socket), as an operator would.</summary>
public static class CtlAgent
{
    public static ProcessRunner.Result Run(TopologyHost host, params string[] args) =>
        Netns.Exec(host.Namespace, AgentCluster.Flanneld, ["ctl", .. args.Contains("--host") ? [] : new[] { "--socket", host.CmdSocket }, .. args],
            TimeSpan.FromSeconds(30));

    /// <summary>`flanneld ctl --json args` parsed as <typeparamref name="T"/>; throws with the output when it failed.</summary>
    public static T Json<T>(TopologyHost host, params string[] args)
    {
        var r = Run(host, ["--json", .. args]);
        if (!r.Ok) throw new InvalidOperationException($"ctl {string.Join(' ', args)} on {host} exited {r.ExitCode}: {r.Stderr}");
        return JsonSerializer.Deserialize<T>(r.Stdout, CtlWire.Json)
               ?? throw new InvalidOperationException($"ctl {string.Join(' ', args)} printed null");
    }

    /// <summary>GET http://127.0.0.1:port/path from inside the host's namespace (the health app binds loopback there).</summary>
    public static async Task<string> HttpGetAsync(TopologyHost host, int port, string path)
    {
        using var ns = new NamespaceThread(host.Namespace);
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (ctx, ct) =>
            {
                var socket = ns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, ctx.DnsEndPoint.Port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync($"http://127.0.0.1:{port}{path}");
    }

}
