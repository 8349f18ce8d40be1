using Akka.Configuration;
using Flannel.Actors.Leases;
using Flannel.Actors.Remoting;
using Flannel.Actors.Serialization;
using Flannel.Host.Options;

namespace Flannel.Host.Hosting;

/// <summary>
/// Builds the actor system's configuration. Precedence, highest first: --hocon-file, the flags (remoting address,
/// seeds), the bundled hocon/*.hocon files (in name order), the lease layer's defaults; above all of them the wire
/// lock (WireConfig) and, with TLS, enable-ssl = on.
/// </summary>
public static class AkkaConfigBuilder
{
    /// <summary>The actor system name: every node of one flannel cluster must use the same.</summary>
    public const string SystemName = "flannel";

    public static string DefaultHoconDirectory => Path.Combine(AppContext.BaseDirectory, "hocon");

    /// <summary>
    /// The HOCON the flags stand for: where this node listens, whether remoting runs over TLS (the certificate itself
    /// comes in the ActorSystemSetup, see Security/ClusterTls) and whom it joins, with the protocol that matches.
    /// </summary>
    public static string FromFlags(string clusterHost, int clusterPort, IReadOnlyList<ClusterSeed> seeds, bool tls = false)
    {
        var seedList = string.Join(", ", seeds.Select(s => Quote(SeedAddress(s, tls))));
        var text = $$"""
            akka.remote.dot-netty.tcp {
              hostname = {{Quote(clusterHost)}}
              port = {{clusterPort}}
              enable-ssl = {{(tls ? "on" : "off")}}
            }
            """;
        if (seeds.Count > 0) text += $"\nakka.cluster.seed-nodes = [{seedList}]\n";
        return text;
    }

    /// <summary>
    /// What TLS adds to the remoting config, above every file (see <see cref="Build"/>). The transport heartbeat at 1 s
    /// instead of Akka's 4 s: with TLS, the first reply on a new outbound association (the peer's Associate, sent with
    /// the end of the TLS handshake) sits undelivered on the client until the next bytes arrive on that connection,
    /// which is the peer's next transport heartbeat (DotNetty's TLS handler with AutoRead off). Measured with
    /// bench/leases.sh 20: a joiner stalled 4.0 s, converge median 6.8 s; with 1 s it stalls about 1 s, median 3.3 s.
    /// The cost: one small heartbeat per peer connection per second.
    /// </summary>
    public const string TlsHocon = """
        akka.remote.dot-netty.tcp.enable-ssl = on
        akka.remote.transport-failure-detector.heartbeat-interval = 1s
        """;

    /// <summary>
    /// Above every file: CoordinatedShutdown never ends the process. A downed or removed node's actor system terminates
    /// (run-coordinated-shutdown-when-down, so a leaving node hands over the allocator singleton), and the agent, not
    /// Akka, decides what follows: it keeps the data plane and rejoins as a new incarnation (AgentRunner); only SIGTERM
    /// or an unrecoverable local error ends flanneld.
    /// </summary>
    public const string LifecycleHocon = """
        akka.coordinated-shutdown.exit-clr = off
        """;

    /// <summary>akka.tcp://flannel@host:port, or akka.ssl.tcp://... with TLS.</summary>
    public static string SeedAddress(ClusterSeed seed, bool tls = false) => $"{ClusterProtocol.For(tls)}://{SystemName}@{seed}";

    public static Config Build(string clusterHost, int clusterPort, IReadOnlyList<ClusterSeed> seeds, string? hoconFile,
        string? hoconDirectory = null, bool tls = false)
    {
        var config = ConfigurationFactory.ParseString(FromFlags(clusterHost, clusterPort, seeds, tls));
        if (hoconFile is not null)
        {
            if (!File.Exists(hoconFile)) throw new FileNotFoundException($"--hocon-file: {hoconFile} not found", hoconFile);
            config = ConfigurationFactory.ParseString(File.ReadAllText(hoconFile)).WithFallback(config);
        }
        var dir = hoconDirectory ?? DefaultHoconDirectory;
        if (Directory.Exists(dir))
            foreach (var file in Directory.GetFiles(dir, "*.hocon").Order(StringComparer.Ordinal))
                config = config.WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(file)));
        // The wire lock (only bound message types cross the wire) wins over every file, and so do the TLS flags: an
        // --hocon-file must not turn TLS off behind them (seeds would then name the wrong protocol, and the node would
        // listen in plain text while its operator believes otherwise).
        config = ConfigurationFactory.ParseString(LifecycleHocon)
            .WithFallback(WireConfig.Default.WithFallback(config.WithFallback(LeaseConfig.Default)));
        return tls ? ConfigurationFactory.ParseString(TlsHocon).WithFallback(config) : config;
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
