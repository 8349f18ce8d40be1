using Akka.Actor;
using Akka.Configuration;
using Flannel.Actors.Leases;
using Xunit;

namespace Flannel.Actors.Tests.Leases;

public sealed class LeaseAllocatorExtensionTests
{
    [Fact]
    public async Task Without_a_LeaseAllocatorSetup_the_extension_refuses_to_start_and_says_what_is_missing()
    {
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.loglevel = OFF
            """).WithFallback(LeaseConfig.Default);
        var system = ActorSystem.Create("flannel", config);
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => LeaseAllocatorExtension.Get(system));
            Assert.StartsWith("no LeaseAllocatorSetup in the ActorSystemSetup: the lease allocator must know the cluster's accepted net-conf",
                e.Message);
        }
        finally
        {
            await system.Terminate();
        }
    }
}
