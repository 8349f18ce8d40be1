using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Flannel.Host.Ctl;
using Flannel.Host.Health;
using Flannel.Host.Security;
using Flannel.Testing;

namespace Flannel.Demo;

/// <summary>One simulated machine: a network namespace on the underlay bridge, running one flanneld.</summary>
public sealed class TopologyHost(int index, string ns, IPAddress address, string stateDir)
{
    public int Index { get; } = index;
    public string NodeName => $"host{Index}";
    public string Namespace { get; } = ns;
    public IPAddress Address { get; } = address;
    public string StateDir { get; } = stateDir;
    public string SubnetFile => Path.Combine(StateDir, "subnet.env");
    /// <summary>The agent's durable lease table (--lease-store): per host, since every host shares this machine's file system.</summary>
    public string LeaseStore => Path.Combine(StateDir, "leases");
    public string LogFile => Path.Combine(StateDir, "flanneld.log");
    /// <summary>The agent's command socket (--cmd-socket): per host, since every host shares this machine's file system.</summary>
    public string CmdSocket => Path.Combine(StateDir, "flanneld.sock");
    /// <summary>tls.crt, tls.key and ca.crt of this host (IP SAN = its underlay address), made at Build.</summary>
    public string TlsDir => Path.Combine(StateDir, "tls");
    public Process? Agent { get; internal set; }
    public AgentClient? Client { get; internal set; }

    public override string ToString() => $"{NodeName} ({Address})";
}

/// <summary>A pod: a namespace wired by the flannel CNI plugin on its host.</summary>
public sealed record Pod(string Name, string Namespace, IPAddress Address, TopologyHost Host, string ContainerId)
{
    public override string ToString() => $"{Name} ({Address} on {Host.NodeName})";
}

/// <summary>
/// A local flannel cluster: an underlay bridge in its own namespace, N host namespaces attached by veth, a flanneld agent
/// per host (started inside it with `ip netns exec`, seeds = host 1; mutual TLS with a CA made for the run) and pods created through the CNI plugin exactly as
/// a container runtime calls it. Used by `flannel-demo` and the end-to-end tests. Dispose removes everything, also
/// after a failure; every process it started is killed by PID.
/// </summary>
public sealed class ClusterTopology : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly List<Pod> _pods = [];
    private readonly List<string> _namespaces = [];
    private int _podCounter;
    private bool _disposed;

    public TopologyOptions Options { get; }
    public string UnderlayNamespace { get; }
    public IReadOnlyList<TopologyHost> Hosts { get; }
    public IReadOnlyList<Pod> Pods
    {
        get { lock (_pods) return _pods.ToList(); }
    }
    public string StateDir { get; }
    public string NetConfPath => Path.Combine(StateDir, "net-conf.json");
    public string CniBinDir => Path.Combine(StateDir, "cni-bin");
    /// <summary>The cluster CA (ca.crt, ca.key) the hosts' certificates are signed by, made at Build.</summary>
    public string CaDir => Path.Combine(StateDir, "ca");

    private ClusterTopology(TopologyOptions options)
    {
        Options = options;
        StateDir = Path.Combine(options.StateRoot, options.Prefix);
        UnderlayNamespace = $"{options.Prefix}-ul";
        var baseBytes = options.Underlay.BaseAddress.GetAddressBytes();
        Hosts = Enumerable.Range(1, options.Hosts).Select(i =>
        {
            var a = (byte[])baseBytes.Clone();
            a[3] = (byte)i;
            return new TopologyHost(i, $"{options.Prefix}-h{i}", new IPAddress(a), Path.Combine(StateDir, $"host{i}"));
        }).ToList();
    }

    /// <summary>Removes what a crashed earlier run with the same prefix left, then builds underlay and hosts.</summary>
    public static ClusterTopology Create(TopologyOptions options)
    {
        RemoveLeftovers(options);
        var t = new ClusterTopology(options);
        try
        {
            t.Build();
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    public static void RemoveLeftovers(TopologyOptions options)
    {
        foreach (var ns in Netns.List().Where(n => n.StartsWith(options.Prefix + "-", StringComparison.Ordinal)))
            Netns.Delete(ns);
        var dir = Path.Combine(options.StateRoot, options.Prefix);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    private void Build()
    {
        Directory.CreateDirectory(StateDir);
        Directory.CreateDirectory(CniBinDir);
        // The runtime finds the plugin by its type name on CNI_PATH: `flannel`, the native plugin (src/Flannel.Cni).
        File.CreateSymbolicLink(Path.Combine(CniBinDir, "flannel"), CniPluginBinary.Locate());
        File.WriteAllText(NetConfPath, Options.NetConfJson ?? Options.DefaultNetConf());
        // Always mutual TLS, as a deployment must run: the topology has no plain-text mode.
        CreateCredentials();

        AddNamespace(UnderlayNamespace);
        Netns.Sh(UnderlayNamespace, "ip link add br0 type bridge && ip link set br0 up");
        foreach (var h in Hosts)
        {
            Directory.CreateDirectory(h.StateDir);
            AddNamespace(h.Namespace);
            Netns.Sh(h.Namespace,
                $"ip link add eth0 type veth peer name h{h.Index} netns {UnderlayNamespace} && " +
                $"ip addr add {h.Address}/{Options.Underlay.PrefixLength} dev eth0 && ip link set eth0 up && " +
                "sysctl -qw net.ipv4.ip_forward=1");
            Netns.Sh(UnderlayNamespace, $"ip link set h{h.Index} master br0 && ip link set h{h.Index} up");
        }
    }

    /// <summary>A cluster CA and one certificate per host, in-process (as `flanneld certs` makes them).</summary>
    private void CreateCredentials()
    {
        using var ca = ClusterCertificates.CreateCa($"{Options.Prefix} cluster CA", TimeSpan.FromDays(2));
        CredentialFiles.WriteCa(CaDir, ca, force: false);
        foreach (var h in Hosts)
        {
            using var cert = ClusterCertificates.CreateNode(ca, h.NodeName, [h.Address], [], TimeSpan.FromDays(1));
            CredentialFiles.WriteNode(h.TlsDir, cert, ca.ExportCertificatePem(), force: false);
        }
    }

    /// <summary>The cluster transport flags of host <paramref name="h"/>: its certificate, key and the CA.</summary>
    public IReadOnlyList<string> TlsArgs(TopologyHost h) =>
    [
        "--cluster-tls-cert", Path.Combine(h.TlsDir, CredentialFiles.NodeCert),
        "--cluster-tls-key", Path.Combine(h.TlsDir, CredentialFiles.NodeKey),
        "--cluster-tls-ca", Path.Combine(h.TlsDir, CredentialFiles.CaCert),
    ];

    /// <summary>
    /// Another machine on the underlay (not a flannel host): namespace <c>{Prefix}-x{suffix}</c> with eth0 at
    /// <paramref name="address"/> on the bridge. Removed on Dispose like the hosts.
    /// </summary>
    public string AttachNamespace(string suffix, IPAddress address)
    {
        var ns = $"{Options.Prefix}-x{suffix}";
        AddNamespace(ns);
        var peer = $"x{suffix}";
        Netns.Sh(ns, $"ip link add eth0 type veth peer name {peer} netns {UnderlayNamespace} && " +
                     $"ip addr add {address}/{Options.Underlay.PrefixLength} dev eth0 && ip link set eth0 up");
        Netns.Sh(UnderlayNamespace, $"ip link set {peer} master br0 && ip link set {peer} up");
        return ns;
    }

    /// <summary>
    /// Cuts <paramref name="hosts"/> off from the other hosts: their underlay ports move to a second bridge, so they
    /// still reach each other (the minority side of a partition) but nobody else. <see cref="Heal"/> undoes it.
    /// </summary>
    public void CutOff(IEnumerable<TopologyHost> hosts)
    {
        Netns.Sh(UnderlayNamespace, "ip link show br1 >/dev/null 2>&1 || (ip link add br1 type bridge && ip link set br1 up)");
        foreach (var h in hosts) Netns.Sh(UnderlayNamespace, $"ip link set h{h.Index} master br1");
    }

    /// <summary>The nftables table (bridge family, in the underlay namespace) that holds <see cref="CutBetween"/>'s drops.</summary>
    private const string CutTable = "flannel-cut";

    /// <summary>
    /// Cuts the paths between the hosts of <paramref name="side"/> and those of <paramref name="rest"/> only: every host
    /// stays on the main bridge, which drops the frames forwarded between the two groups' ports, so each group still
    /// reaches itself and the bridge's own addresses (the API server of a Kubernetes topology), as a node partition whose
    /// control plane sits on another network. <see cref="Heal"/> undoes it.
    /// </summary>
    public void CutBetween(IEnumerable<TopologyHost> side, IEnumerable<TopologyHost> rest)
    {
        static string Ports(IEnumerable<TopologyHost> hosts) => "{ " + string.Join(", ", hosts.Select(h => $"h{h.Index}")) + " }";
        var a = Ports(side);
        var b = Ports(rest);
        Netns.Sh(UnderlayNamespace,
            $"nft add table bridge {CutTable} && " +
            $"nft add chain bridge {CutTable} forward '{{ type filter hook forward priority 0; policy accept; }}' && " +
            $"nft add rule bridge {CutTable} forward iifname '{a}' oifname '{b}' drop && " +
            $"nft add rule bridge {CutTable} forward iifname '{b}' oifname '{a}' drop");
    }

    /// <summary>Puts every host's underlay port back on the main bridge and removes the drops of <see cref="CutBetween"/>
    /// (after <see cref="CutOff"/> or <see cref="CutBetween"/>).</summary>
    public void Heal()
    {
        Netns.Sh(UnderlayNamespace, $"nft delete table bridge {CutTable} 2>/dev/null || true");
        foreach (var h in Hosts) Netns.Sh(UnderlayNamespace, $"ip link set h{h.Index} master br0");
    }

    private void AddNamespace(string name)
    {
        Netns.Add(name);
        lock (_namespaces) _namespaces.Add(name);
        Netns.Sh(name, "ip link set lo up");
    }

    /// <summary>The flanneld flags of host <paramref name="h"/>.</summary>
    public IReadOnlyList<string> AgentArgs(TopologyHost h) =>
    [
        "--iface", "eth0",
        "--net-config-path", NetConfPath,
        "--subnet-file", h.SubnetFile,
        "--lease-store", h.LeaseStore,
        "--node-name", h.NodeName,
        "--cluster-port", Options.ClusterPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Every host is a seed (host 1 first), so any agent, host 1 included, rejoins the running cluster after a restart.
        "--cluster-seeds", string.Join(',', Hosts.Select(x => $"{x.Address}:{Options.ClusterPort}")),
        "--healthz-ip", "127.0.0.1",
        "--healthz-port", Options.HealthPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--cmd-socket", h.CmdSocket,
        .. TlsArgs(h),
        .. Options.ExtraAgentArgs,
    ];

    /// <summary>Starts host <paramref name="h"/>'s agent (output appended to its log file).</summary>
    public Process StartAgent(TopologyHost h, IReadOnlyList<string>? args = null)
    {
        if (h.Agent is { HasExited: false }) throw new InvalidOperationException($"{h.NodeName}: agent already running");
        var p = StartInNamespace(h.Namespace, Options.Flanneld, args ?? AgentArgs(h), h.LogFile);
        h.Agent = p;
        h.Client ??= new AgentClient(h.Namespace, Options.HealthPort, h.CmdSocket);
        return p;
    }

    public void StartAgents()
    {
        foreach (var h in Hosts) StartAgent(h);
    }

    /// <summary>SIGKILL, like a crash: no leave, no clean-up.</summary>
    public void KillAgent(TopologyHost h)
    {
        if (h.Agent is not { } p) return;
        if (!p.HasExited) p.Kill();
        p.WaitForExit(10_000);
    }

    /// <summary>SIGTERM: the agent leaves the cluster and exits. Returns its exit code.</summary>
    public int StopAgent(TopologyHost h, TimeSpan? timeout = null)
    {
        if (h.Agent is not { } p) return 0;
        if (!p.HasExited) ProcessRunner.Run("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(20)))
        {
            p.Kill();
            p.WaitForExit(5000);
        }
        return p.ExitCode;
    }

    /// <summary>Starts a long-running process in a namespace, output to <paramref name="logFile"/>; killed on Dispose.</summary>
    public Process StartInNamespace(string ns, string file, IEnumerable<string> args, string logFile)
    {
        // sh and ip both exec: the PID we get is the program's own, so kill -9 hits it and nothing else.
        var command = "exec ip netns exec " + Quote(ns) + " " + Quote(file) + " " +
                      string.Join(' ', args.Select(Quote)) + " >>" + Quote(logFile) + " 2>&1 </dev/null";
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k.StartsWith("FLANNELD_", StringComparison.Ordinal) || k.StartsWith("CNI_", StringComparison.Ordinal)))
            psi.Environment.Remove(key);
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file} in {ns}");
        lock (_processes) _processes.Add(p);
        return p;
    }

    /// <summary>
    /// Waits until every agent answers /readyz with 200 and has programmed a route to each of the other hosts; throws with
    /// the reasons and log tails otherwise.
    /// </summary>
    public async Task WaitReadyAsync(TimeSpan timeout, IEnumerable<TopologyHost>? hosts = null, CancellationToken ct = default)
    {
        var which = (hosts ?? Hosts).ToList();
        var last = new Dictionary<string, string>();
        await Poll.UntilAsync(async () =>
        {
            var allReady = true;
            foreach (var h in which)
            {
                if (h.Agent is { HasExited: true } dead)
                    throw new InvalidOperationException($"{h.NodeName}: flanneld exited with {dead.ExitCode}\n{Tail(h.LogFile, 20)}");
                var r = h.Client is null ? null : await h.Client.ReadyAsync(ct).ConfigureAwait(false);
                last[h.NodeName] = r is null ? "not answering" : r.Value.Body;
                if (r is not { Ready: true }) { allReady = false; continue; }
                // Ready only says the agent programmed the peers it knows; one that came up before the others' leases
                // reached it is ready with fewer. Pod traffic between every pair needs every peer programmed.
                StatusView s;
                try
                {
                    s = await h.Client!.StatusAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is CtlUnavailableException or InvalidOperationException or IOException
                                               or System.Net.Sockets.SocketException)
                {
                    // Ready a moment ago and now between answers (an agent switching actor-system incarnations).
                    last[h.NodeName] = "ready, status not answering: " + e.Message;
                    allReady = false;
                    continue;
                }
                var peers = which.Count - 1;
                if (!(s.Reconcile.InSync && s.Reconcile.PeersProgrammed >= peers))
                {
                    last[h.NodeName] = $"ready, peers programmed {s.Reconcile.PeersProgrammed}/{peers} (in sync: {s.Reconcile.InSync})";
                    allReady = false;
                }
                // The own lease is written by the allocator with WriteMajority, which need not include this node's
                // replica: an agent can know its lease and every peer's while its table still lacks its own entry
                // until the next gossip (CI saw a host list 2 leases of 3 with both peers programmed).
                else if (s.Leases.Count < which.Count)
                {
                    last[h.NodeName] = $"ready, lease table {s.Leases.Count}/{which.Count}";
                    allReady = false;
                }
            }
            return allReady;
        }, timeout, () => "agents ready: " + string.Join("; ", last.Select(kv => $"{kv.Key}: {kv.Value}")) + "\n" +
            string.Join("\n", which.Select(h => $"--- {h.NodeName} log ---\n{Tail(h.LogFile, 15)}")), 200, ct).ConfigureAwait(false);
    }

    /// <summary>Creates a pod on <paramref name="h"/> by calling the flannel CNI plugin with CNI_COMMAND=ADD.</summary>
    public Pod CreatePod(TopologyHost h, string? name = null)
    {
        var n = Interlocked.Increment(ref _podCounter);
        name ??= $"pod{n}";
        var ns = $"{Options.Prefix}-p{n}";
        AddNamespace(ns);
        var containerId = $"{Options.Prefix}-{name}-{n}";
        var result = Cni(h, "ADD", ns, containerId);
        var ip = JsonNode.Parse(result)?["ips"]?[0]?["address"]?.GetValue<string>()
                 ?? throw new InvalidOperationException($"CNI ADD on {h.NodeName} returned no IP: {result}");
        var pod = new Pod(name, ns, IPAddress.Parse(ip.Split('/')[0]), h, containerId);
        lock (_pods) _pods.Add(pod);
        return pod;
    }

    /// <summary>The network config a runtime would hand the plugin (kube-flannel-cfg's plus per-host state paths).</summary>
    public string CniConfig(TopologyHost h) => new JsonObject
    {
        ["cniVersion"] = "1.0.0",
        ["name"] = "cbr0",
        ["type"] = "flannel",
        ["subnetFile"] = h.SubnetFile,
        ["dataDir"] = Path.Combine(h.StateDir, "cni"),
        ["delegate"] = new JsonObject { ["isDefaultGateway"] = true, ["hairpinMode"] = true },
        // host-local keeps its allocations per host (all hosts share this machine's filesystem).
        ["ipam"] = new JsonObject { ["dataDir"] = Path.Combine(h.StateDir, "ipam") },
    }.ToJsonString();

    public string Cni(TopologyHost h, string command, string podNs, string containerId)
    {
        var env = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = containerId,
            ["CNI_NETNS"] = $"/var/run/netns/{podNs}",
            ["CNI_IFNAME"] = "eth0",
            ["CNI_PATH"] = $"{CniBinDir}:/usr/lib/cni",
        };
        var r = Netns.Exec(h.Namespace, Path.Combine(CniBinDir, "flannel"), [], TimeSpan.FromSeconds(30), CniConfig(h), env);
        if (!r.Ok) throw new InvalidOperationException($"CNI {command} on {h.NodeName} exited {r.ExitCode}: {r.Stdout.Trim()} {r.Stderr.Trim()}");
        return r.Stdout;
    }

    /// <summary>One ping from <paramref name="from"/> to <paramref name="to"/>, retried a few times (first packets wait for ARP).</summary>
    public static bool Ping(Pod from, Pod to, int attempts = 5)
    {
        for (var i = 0; i < attempts; i++)
        {
            var r = Netns.Exec(from.Namespace, "ping", ["-c", "1", "-W", "1", "-q", to.Address.ToString()], TimeSpan.FromSeconds(5));
            if (r.Ok) return true;
        }
        return false;
    }

    public static string Tail(string file, int lines)
    {
        if (!File.Exists(file)) return "(no log)";
        var all = File.ReadAllLines(file);
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // SIGTERM to all agents at once: each leaves the cluster in parallel instead of one after another.
        foreach (var h in Hosts.Where(h => h.Agent is { HasExited: false }))
            ProcessRunner.Run("kill", ["-TERM", h.Agent!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        foreach (var h in Hosts)
        {
            if (h.Agent is { HasExited: false }) StopAgent(h, TimeSpan.FromSeconds(8));
            h.Client?.Dispose();
        }
        lock (_processes)
        {
            foreach (var p in _processes)
            {
                try
                {
                    if (!p.HasExited)
                    {
                        p.Kill();
                        p.WaitForExit(5000);
                    }
                }
                catch (InvalidOperationException) { }
                p.Dispose();
            }
            _processes.Clear();
        }
        foreach (var ns in Enumerable.Reverse(_namespaces)) Netns.Delete(ns);
        if (Options.KeepLogsIn is { } keep)
        {
            Directory.CreateDirectory(keep);
            foreach (var h in Hosts.Where(h => File.Exists(h.LogFile)))
                File.Copy(h.LogFile, Path.Combine(keep, $"{h.NodeName}.log"), overwrite: true);
        }
        try
        {
            if (Directory.Exists(StateDir)) Directory.Delete(StateDir, recursive: true);
        }
        catch (IOException) { }
    }
}
