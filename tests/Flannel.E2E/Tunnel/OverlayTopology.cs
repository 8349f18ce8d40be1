using Flannel.Demo;
using System.Diagnostics;
using System.Text.Json;
using Flannel.Testing;

namespace Flannel.E2E.Tunnel;

/// <summary>
/// Two hosts (namespaces) on an underlay veth, each with a pod namespace behind a bridge, joined by Flannel.TunnelHost
/// processes with static peer tables; flannel0 is configured with `ip` like flannel does (lease IP /32, network route).
/// Addresses exist only inside these namespaces. Dispose kills the tunnel hosts and deletes the namespaces.
/// </summary>
public sealed class OverlayTopology : IDisposable
{
    public const string Network = "10.78.0.0/16";
    public const string Underlay1 = "192.168.78.1", Underlay2 = "192.168.78.2", Stranger = "192.168.78.66";
    public const string Pod1 = "10.78.1.2", Pod2 = "10.78.2.2";

    private readonly List<IDisposable> _owned = new();
    private readonly string _statsDir = Directory.CreateTempSubdirectory("fl-tunnel-").FullName;

    public Netns Host1 { get; }
    public Netns Host2 { get; }
    public Netns PodNs1 { get; }
    public Netns PodNs2 { get; }
    public Process Tunnel1 { get; private set; } = null!;
    public Process Tunnel2 { get; private set; } = null!;

    /// <param name="queues">Tunnel queues per host (0: the tunnel's default, one per CPU).</param>
    /// <param name="idleReleaseMs">The tunnels' --idle-release-ms (0: their default).</param>
    public OverlayTopology(bool offload = true, int queues = 0, int idleReleaseMs = 0)
    {
        try
        {
            Host1 = Own(new Netns("fth"));
            Host2 = Own(new Netns("fth"));
            PodNs1 = Own(new Netns("ftp"));
            PodNs2 = Own(new Netns("ftp"));
            ProcessRunner.Check("ip", $"link add u1 netns {Host1.Name} type veth peer name u2 netns {Host2.Name}".Split(' '));
            Host1.Exec($"ip addr add {Underlay1}/24 dev u1");
            Host1.Exec("ip link set u1 up");
            Host2.Exec($"ip addr add {Underlay2}/24 dev u2");
            Host2.Exec("ip link set u2 up");
            ConfigureHost(Host1, PodNs1, 1);
            ConfigureHost(Host2, PodNs2, 2);
            Tunnel1 = StartTunnel(Host1, 1, Underlay1, $"10.78.2.0/24={Underlay2}", offload, queues, idleReleaseMs);
            Tunnel2 = StartTunnel(Host2, 2, Underlay2, $"10.78.1.0/24={Underlay1}", offload, queues, idleReleaseMs);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private T Own<T>(T d) where T : IDisposable
    {
        _owned.Add(d);
        return d;
    }

    private static void ConfigureHost(Netns host, Netns pod, int i)
    {
        host.Exec("sysctl -qw net.ipv4.ip_forward=1");
        host.Exec("ip link add cni0 type bridge");
        host.Exec($"ip addr add 10.78.{i}.1/24 dev cni0");
        host.Exec("ip link set cni0 up");
        ProcessRunner.Check("ip", $"link add veth{i} netns {host.Name} type veth peer name eth0 netns {pod.Name}".Split(' '));
        host.Exec($"ip link set veth{i} master cni0 mtu 1472 up");
        pod.Exec($"ip addr add 10.78.{i}.2/24 dev eth0");
        pod.Exec("ip link set eth0 mtu 1472 up");
        pod.Exec($"ip route add default via 10.78.{i}.1");
    }

    public string StatsFile(int host) => Path.Combine(_statsDir, $"tunnel{host}.json");

    private Process StartTunnel(Netns host, int i, string local, string peer, bool offload, int queues, int idleReleaseMs)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Flannel.TunnelHost.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("Flannel.TunnelHost.dll next to the tests", dll);
        var args = $"{dll} --local {local} --tun-address 10.78.{i}.0 --subnet 10.78.{i}.0/24 --peer {peer} --stats-file {StatsFile(i)} --stats-interval-ms 100" +
                   (queues > 0 ? $" --queues {queues}" : "") +
                   (idleReleaseMs > 0 ? $" --idle-release-ms {idleReleaseMs}" : "") +
                   (offload ? "" : " --no-offload");
        var p = host.Start("dotnet", args);
        var ready = p.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(30)) || ready.Result is null || !ready.Result.Contains("\"event\":\"ready\""))
            throw new InvalidOperationException($"tunnel host {i} did not become ready: {ready.Result} {(p.HasExited ? p.StandardError.ReadToEnd() : "")}");
        host.Exec($"ip addr add 10.78.{i}.0/32 dev flannel0");
        host.Exec("ip link set flannel0 mtu 1472 up");
        host.Exec($"ip route add {Network} dev flannel0");
        return p;
    }

    /// <summary>The latest counters file of tunnel <paramref name="host"/> (1 or 2).</summary>
    public JsonElement Stats(int host)
    {
        JsonElement stats = default;
        var error = "";
        Poll.Until(() =>
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(StatsFile(host)));
                stats = doc.RootElement.Clone();
                return true;
            }
            catch (IOException e)
            {
                // Not written yet, or being replaced.
                error = e.Message;
                return false;
            }
        }, TimeSpan.FromSeconds(10), () => $"tunnel {host} counters readable ({error})");
        return stats;
    }

    /// <summary>Polls the counters until <paramref name="condition"/> holds (else fails showing them); returns them.</summary>
    public JsonElement WaitForStats(int host, Func<JsonElement, bool> condition, TimeSpan timeout)
    {
        JsonElement stats = default;
        Poll.Until(() => condition(stats = Stats(host)), timeout, () => $"tunnel {host} counters: {stats}", 100);
        return stats;
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        try { Directory.Delete(_statsDir, recursive: true); } catch (IOException) { }
    }
}
