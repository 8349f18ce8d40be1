using Akka.Configuration;
using DotNetty.Buffers;
using Flannel.Host.Hosting;
using Xunit;

namespace Flannel.Host.Tests.Hosting;

public class DotNettyBuffersTests
{
    [Fact]
    public void The_bundled_settings_make_accepted_connections_unpooled_too()
    {
        // Issue 12: with the pooled default, accepted connections started DotNetty's buffer-cache watcher thread.
        var config = AkkaConfigBuilder.Build("10.0.0.1", 4053, [], null, Path.Combine(AppContext.BaseDirectory, "hocon"));
        Assert.False(config.GetBoolean("akka.remote.dot-netty.tcp.enable-pooling"));
        Assert.Equal("unpooled", DotNettyBuffers.AllocatorType(config, operatorValue: null));
    }

    [Fact]
    public void Pooling_left_on_keeps_DotNetty_s_default_and_an_operator_s_variable_wins()
    {
        var on = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.enable-pooling = on");
        var off = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.enable-pooling = off");
        Assert.Null(DotNettyBuffers.AllocatorType(on, null));
        Assert.Null(DotNettyBuffers.AllocatorType(ConfigurationFactory.Empty, null));
        Assert.Null(DotNettyBuffers.AllocatorType(off, "pooled"));
        Assert.Equal("unpooled", DotNettyBuffers.AllocatorType(off, " "));
    }

    [Fact]
    public void Names_the_allocator_in_effect()
    {
        Assert.Equal("unpooled", DotNettyBuffers.Describe(UnpooledByteBufferAllocator.Default));
        Assert.Equal("pooled", DotNettyBuffers.Describe(PooledByteBufferAllocator.Default));
    }
}
