using Akka.Configuration;
using Flannel.Actors.Leases;
using Flannel.Host.Options;

namespace Flannel.Host.Hosting;

/// <summary>
/// Builds the actor system's configuration. Precedence, highest first: --hocon-file, the flags (remoting address,
/// seeds), the bundled hocon/*.hocon files (in name order), the lease layer's defaults.
/// </summary>
public static class AkkaConfigBuilder
{
    /// <summary>The actor system name: every node of one flannel cluster must use the same.</summary>
    public const string SystemName = "flannel";

    public static string DefaultHoconDirectory => Path.Combine(AppContext.BaseDirectory, "hocon");

    /// <summary>The HOCON the flags stand for: where this node listens and whom it joins.</summary>
    public static string FromFlags(string clusterHost, int clusterPort, IReadOnlyList<ClusterSeed> seeds)
    {
        var seedList = string.Join(", ", seeds.Select(s => Quote(SeedAddress(s))));
        var text = $$"""
            akka.remote.dot-netty.tcp {
              hostname = {{Quote(clusterHost)}}
              port = {{clusterPort}}
            }
            """;
        if (seeds.Count > 0) text += $"\nakka.cluster.seed-nodes = [{seedList}]\n";
        return text;
    }

    /// <summary>akka.tcp://flannel@host:port</summary>
    public static string SeedAddress(ClusterSeed seed) => $"akka.tcp://{SystemName}@{seed}";

    public static Config Build(string clusterHost, int clusterPort, IReadOnlyList<ClusterSeed> seeds, string? hoconFile,
        string? hoconDirectory = null)
    {
        var config = ConfigurationFactory.ParseString(FromFlags(clusterHost, clusterPort, seeds));
        if (hoconFile is not null)
        {
            if (!File.Exists(hoconFile)) throw new FileNotFoundException($"--hocon-file: {hoconFile} not found", hoconFile);
            config = ConfigurationFactory.ParseString(File.ReadAllText(hoconFile)).WithFallback(config);
        }
        var dir = hoconDirectory ?? DefaultHoconDirectory;
        if (Directory.Exists(dir))
            foreach (var file in Directory.GetFiles(dir, "*.hocon").Order(StringComparer.Ordinal))
                config = config.WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(file)));
        return config.WithFallback(LeaseConfig.Default);
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
