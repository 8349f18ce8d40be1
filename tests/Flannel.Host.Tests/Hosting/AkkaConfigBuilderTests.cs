using Flannel.Host.Hosting;
using Flannel.Host.Options;
using Xunit;

namespace Flannel.Host.Tests.Hosting;

public sealed class AkkaConfigBuilderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flannel-hocon-").FullName;

    [Fact]
    public void Flags_set_remoting_and_seeds_over_the_bundled_files_and_the_hocon_file_wins_over_both()
    {
        File.WriteAllText(Path.Combine(_dir, "akka.hocon"), """
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 1 }
            akka.cluster.split-brain-resolver.active-strategy = keep-majority
            akka.cluster.seed-node-timeout = 3s
            """);
        var overrides = Path.Combine(_dir, "override.conf");
        File.WriteAllText(overrides, "akka.cluster.seed-node-timeout = 9s");

        var config = AkkaConfigBuilder.Build("198.18.0.2", 4053,
            [new ClusterSeed("198.18.0.1", 4053), new ClusterSeed("seed.example", 4054)], overrides, _dir);

        Assert.Equal("198.18.0.2", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://flannel@198.18.0.1:4053", "akka.tcp://flannel@seed.example:4054"],
            config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(9), config.GetTimeSpan("akka.cluster.seed-node-timeout"));
        // The lease layer's config (LeaseConfig, no file of its own) is always there: its serializer binding, for one.
        Assert.Equal("Flannel.Actors.Serialization.LeaseSerializer, Flannel.Actors",
            config.GetString("akka.actor.serializers.flannel-leases"));
    }

    [Fact]
    public void Without_seeds_no_seed_nodes_are_configured_and_a_missing_hocon_file_is_named()
    {
        var config = AkkaConfigBuilder.Build("10.0.0.1", 4053, [], null, _dir);
        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes"));
        var e = Assert.Throws<FileNotFoundException>(() => AkkaConfigBuilder.Build("10.0.0.1", 4053, [], "/nonexistent.hocon", _dir));
        Assert.Contains("--hocon-file", e.Message);
    }

    [Fact]
    public void The_lease_store_makes_the_lease_table_key_durable_in_that_file_and_without_it_nothing_is_durable()
    {
        File.WriteAllText(Path.Combine(_dir, "leases.hocon"), "flannel.leases.replicator-key = \"my-leases\"");

        var durable = AkkaConfigBuilder.Build("10.0.0.1", 4053, [], null, _dir, leaseStore: "/var/lib/flannel/leases");
        var memory = AkkaConfigBuilder.Build("10.0.0.1", 4053, [], null, _dir);

        Assert.Equal(["my-leases"], durable.GetStringList("akka.cluster.distributed-data.durable.keys"));
        Assert.Equal("/var/lib/flannel/leases", durable.GetString("akka.cluster.distributed-data.durable.file.path"));
        Assert.Empty(memory.GetStringList("akka.cluster.distributed-data.durable.keys"));
        // Never LightningDB's store (it hangs here), whether or not keys are configured.
        foreach (var c in new[] { durable, memory })
            Assert.Equal("Flannel.Actors.Leases.Durable.LeaseFileStore, Flannel.Actors",
                c.GetString("akka.cluster.distributed-data.durable.store-actor-class"));
    }

    [Fact]
    public void The_bundled_akka_hocon_uses_the_cluster_provider_and_keep_majority()
    {
        var repoHocon = Path.Combine(AppContext.BaseDirectory, "hocon");
        var config = AkkaConfigBuilder.Build("10.0.0.1", 4053, [], null, repoHocon);
        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));
    }

    [Fact]
    public void CoordinatedShutdown_never_exits_the_process_even_when_a_hocon_file_asks_for_it()
    {
        // Issue #13: a downed node's actor system terminates, the process does not (the agent rejoins).
        var overrides = Path.Combine(_dir, "exit.conf");
        File.WriteAllText(overrides, "akka.coordinated-shutdown.exit-clr = on");
        var config = AkkaConfigBuilder.Build("10.0.0.1", 4053, [], overrides, Path.Combine(AppContext.BaseDirectory, "hocon"));
        Assert.False(config.GetBoolean("akka.coordinated-shutdown.exit-clr"));
        Assert.True(config.GetBoolean("akka.cluster.run-coordinated-shutdown-when-down"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
