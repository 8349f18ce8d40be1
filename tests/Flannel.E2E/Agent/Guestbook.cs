using System.Diagnostics;
using Flannel.Testing;
using Flannel.Demo;

namespace Flannel.E2E.Agent;

/// <summary>Kubernetes' guestbook across hosts: redis-server master in one pod, a replica (replicaof master) in another.</summary>
public sealed class Guestbook : IDisposable
{
    private readonly Process _master;
    private readonly Process _replica;
    private readonly Pod _masterPod;
    private readonly Pod _replicaPod;

    public Guestbook(ClusterTopology topology, Pod master, Pod replica)
    {
        _masterPod = master;
        _replicaPod = replica;
        _master = topology.StartInNamespace(master.Namespace, "redis-server", Args(master, topology, []),
            Path.Combine(topology.StateDir, "redis-master.log"));
        _replica = topology.StartInNamespace(replica.Namespace, "redis-server",
            Args(replica, topology, ["--replicaof", master.Address.ToString(), "6379"]),
            Path.Combine(topology.StateDir, "redis-replica.log"));
    }

    private static string[] Args(Pod pod, ClusterTopology topology, string[] extra)
    {
        var dir = Path.Combine(topology.StateDir, "redis-" + pod.Name);
        Directory.CreateDirectory(dir);
        return ["--port", "6379", "--bind", pod.Address.ToString(), "--protected-mode", "no", "--save", "", "--appendonly", "no",
            "--dir", dir, .. extra];
    }

    public void WaitForMaster(Pod client, TimeSpan timeout)
    {
        Poll.Until(() => Cli(client, _masterPod, "PING") == "PONG", timeout, () => $"redis master on {_masterPod} answers PING", 100);
    }

    public void Set(Pod client, string key, string value)
    {
        var reply = Cli(client, _masterPod, "SET", key, value);
        if (reply != "OK") throw new InvalidOperationException($"SET on the master answered \"{reply}\"");
    }

    /// <summary>Polls GET on the replica until the key has a value (replication is asynchronous).</summary>
    public string WaitForReplica(Pod client, string key, TimeSpan timeout)
    {
        var value = "";
        Poll.Until(() => (value = Cli(client, _replicaPod, "GET", key)).Length > 0, timeout,
            () => $"{key} replicated to the replica on {_replicaPod}", 200);
        return value;
    }

    private static string Cli(Pod from, Pod server, params string[] command) =>
        Netns.Exec(from.Namespace, "redis-cli", ["-h", server.Address.ToString(), "-p", "6379", .. command], TimeSpan.FromSeconds(10))
            .Stdout.Trim();

    public void Dispose()
    {
        foreach (var p in new[] { _replica, _master })
        {
            if (!p.HasExited)
            {
                p.Kill();
                p.WaitForExit(5000);
            }
            p.Dispose();
        }
    }
}
