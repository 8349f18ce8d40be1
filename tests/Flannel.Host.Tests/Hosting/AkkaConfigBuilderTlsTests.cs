using Akka.Configuration;
using Flannel.Actors.Leases;
using Flannel.Host.Hosting;
using Flannel.Host.Options;
using Xunit;

namespace Flannel.Host.Tests.Hosting;

public sealed class AkkaConfigBuilderTlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flannel-hocon-").FullName;

    [Fact]
    public void With_TLS_seeds_use_the_ssl_protocol_and_no_hocon_file_turns_TLS_or_the_wire_lock_off()
    {
        var overrides = Path.Combine(_dir, "override.conf");
        File.WriteAllText(overrides, """
            akka.remote.dot-netty.tcp.enable-ssl = off
            akka.actor.serializers.json = "Akka.Serialization.NewtonSoftJsonSerializer, Akka"
            """);
        var seeds = new[] { new ClusterSeed("198.18.0.1", 4053) };

        var tls = AkkaConfigBuilder.Build("198.18.0.2", 4053, seeds, overrides, _dir, tls: true);
        Assert.Equal(["akka.ssl.tcp://flannel@198.18.0.1:4053"], tls.GetStringList("akka.cluster.seed-nodes"));
        Assert.True(tls.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("Flannel.Actors.Serialization.UnboundMessageSerializer, Flannel.Actors", tls.GetString("akka.actor.serializers.json"));
        // Bounds DotNetty's TLS first-reply stall (AkkaConfigBuilder.TlsHocon); Akka's default is 4 s.
        Assert.Equal(TimeSpan.FromSeconds(1), tls.GetTimeSpan("akka.remote.transport-failure-detector.heartbeat-interval"));

        var plain = AkkaConfigBuilder.Build("198.18.0.2", 4053, seeds, null, _dir);
        Assert.Equal(["akka.tcp://flannel@198.18.0.1:4053"], plain.GetStringList("akka.cluster.seed-nodes"));
        Assert.False(plain.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("Flannel.Actors.Serialization.UnboundMessageSerializer, Flannel.Actors", plain.GetString("akka.actor.serializers.json"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
