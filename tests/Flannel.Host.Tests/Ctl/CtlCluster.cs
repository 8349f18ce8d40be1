using Flannel.Testing;
using System.Net;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Flannel.Actors.Cmd;
using Flannel.Host.Ctl;

namespace Flannel.Host.Tests.Ctl;

/// <summary>
/// An in-process cluster of <c>size</c> nodes on 127.0.0.1 with a command host on node 0 (its Unix socket in a
/// directory of its own), and helpers to run `flanneld ctl` against it exactly as the CLI does, capturing stdout/stderr.
/// </summary>
public sealed class CtlCluster : IAsyncDisposable
{
    private static readonly Config NodeConfig = ConfigurationFactory.ParseString("""
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          actor.provider = cluster
          remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
          cluster {
            gossip-interval = 200ms
            leader-actions-interval = 200ms
            unreachable-nodes-reaper-interval = 250ms
            periodic-tasks-initial-delay = 100ms
            failure-detector { heartbeat-interval = 250ms, acceptable-heartbeat-pause = 1500ms }
            run-coordinated-shutdown-when-down = on
          }
          coordinated-shutdown.run-by-clr-shutdown-hook = off
        }
        """);

    private readonly string _dir;

    private CtlCluster(IReadOnlyList<ActorSystem> nodes, CommandHost host, string dir)
    {
        Nodes = nodes;
        Host = host;
        _dir = dir;
    }

    public IReadOnlyList<ActorSystem> Nodes { get; }

    public CommandHost Host { get; }

    public string SocketPath => Host.SocketPath!;

    /// <summary>The ctl arguments that name this cluster's command host.</summary>
    public string[] Target => ["--socket", SocketPath];

    public static async Task<CtlCluster> StartAsync(int size, Func<ActorSystem, CmdContext> context)
    {
        var nodes = new List<ActorSystem>();
        for (var i = 0; i < size; i++)
        {
            var system = ActorSystem.Create("flannel", NodeConfig);
            Cluster.Get(system).Join(i == 0 ? Cluster.Get(system).SelfAddress : Cluster.Get(nodes[0]).SelfAddress);
            nodes.Add(system);
        }
        await Poll.UntilAsync(() => nodes.All(n => Cluster.Get(n).State.Members.Count(m => m.Status == MemberStatus.Up) == size),
            TimeSpan.FromSeconds(20), $"{size} members up");
        var dir = TempDir.Create("ctl");
        var host = CommandHost.Start(nodes[0], Path.Combine(dir, "run", "flanneld.sock"), null, context(nodes[0]));
        return new CtlCluster(nodes, host, dir);
    }

    public static string HostPort(ActorSystem node) =>
        $"{Cluster.Get(node).SelfAddress.Host}:{Cluster.Get(node).SelfAddress.Port}";

    /// <summary>Runs `flanneld ctl --socket <this host> args...` in-process; stdin is <paramref name="input"/>.</summary>
    public Task<CtlResult> Ctl(params string[] args) => CtlWithInput(null, args);

    public async Task<CtlResult> CtlWithInput(string? input, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CtlCommand.RunAsync([.. Target, .. args], stdout, stderr, new StringReader(input ?? ""),
            interactive: false, CancellationToken.None);
        return new CtlResult(code, stdout.ToString(), stderr.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Task.WhenAll(Nodes.Select(n => n.Terminate()));
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>A fresh directory under /tmp for one test's sockets (the caller deletes it).</summary>
public static class TempDir
{
    public static string Create(string what)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"flannel-{what}-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}

public sealed record CtlResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>A lease table in memory: what a SubnetLeaseActor would answer, without the replication.</summary>
public sealed class FakeLeaseTable : ILeaseTable
{
    private readonly Dictionary<IPNetwork, LeaseEntry> _leases = new();

    public FakeLeaseTable(params LeaseEntry[] leases)
    {
        foreach (var l in leases) _leases[l.Subnet] = l;
    }

    public List<IPNetwork> Released { get; } = [];

    /// <summary>The force flag of each release, in the order of <see cref="Released"/>.</summary>
    public List<bool> ReleasedForce { get; } = [];

    public IReadOnlyCollection<IPNetwork> Subnets
    {
        get { lock (_leases) return _leases.Keys.ToList(); }
    }

    public Task<IReadOnlyList<LeaseEntry>> ListAsync(CancellationToken ct)
    {
        lock (_leases) return Task.FromResult<IReadOnlyList<LeaseEntry>>(_leases.Values.ToList());
    }

    public Task<string?> ReleaseAsync(IPNetwork subnet, bool force, CancellationToken ct)
    {
        lock (_leases)
        {
            Released.Add(subnet);
            ReleasedForce.Add(force);
            return Task.FromResult(_leases.Remove(subnet) ? null : "not leased");
        }
    }

    public static LeaseEntry Lease(string subnet, string node, string ip, TimeSpan? left = null) =>
        new(IPNetwork.Parse(subnet), node, IPAddress.Parse(ip), "udp", null, DateTimeOffset.UtcNow + (left ?? TimeSpan.FromHours(23)), 3);
}

/// <summary>A TextWriter safe to read while a streaming command writes to it from another thread.</summary>
public sealed class ConcurrentWriter : TextWriter
{
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_text) _text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_text) _text.Append(value);
    }

    public override string ToString()
    {
        lock (_text) return _text.ToString();
    }
}
