using Akka.Configuration;
using DotNetty.Buffers;

namespace Flannel.Host.Hosting;

/// <summary>
/// Makes <c>akka.remote.dot-netty.tcp.enable-pooling = off</c> hold for accepted connections too. Akka.Remote 1.5.73
/// reads the setting but never uses it: its bootstraps set the unpooled allocator as a channel option, which on the
/// server bootstrap covers the listening socket only; the connections it accepts take DotNetty's process default
/// (<see cref="ByteBufferUtil.DefaultAllocator"/>), pooled unless the environment says io.netty.allocator.type=unpooled.
/// The pooled allocator's per-thread cache, made by the first read of an accepted connection, starts DotNetty's
/// ThreadDeathWatcher: one more thread for the process's lifetime, waking every second, named after the event loop that
/// started it ("SingleThreadEve"). Measured (issue 12, bench/footprint.sh, strace of clone3): every agent that had
/// accepted a peer's connection ran 3 such threads, a last joiner 2; with this, all run 2.
/// </summary>
public static class DotNettyBuffers
{
    /// <summary>DotNetty reads it once, in ByteBufferUtil's static constructor.</summary>
    public const string AllocatorTypeVariable = "io.netty.allocator.type";

    /// <summary>The allocator type to give DotNetty, or null to leave its default (an operator's variable wins).</summary>
    public static string? AllocatorType(Config config, string? operatorValue) =>
        !string.IsNullOrWhiteSpace(operatorValue) ? null
        : config.GetBoolean("akka.remote.dot-netty.tcp.enable-pooling", true) ? null
        : "unpooled";

    /// <summary>
    /// Call before the first actor system starts (DotNetty's default is fixed at its first use, for the process). The
    /// variable is set only for that moment, so the commands the agent runs do not inherit it. Returns the default in effect.
    /// </summary>
    public static string Configure(Config config)
    {
        var operatorValue = Environment.GetEnvironmentVariable(AllocatorTypeVariable);
        if (AllocatorType(config, operatorValue) is { } type)
        {
            Environment.SetEnvironmentVariable(AllocatorTypeVariable, type);
            try { _ = ByteBufferUtil.DefaultAllocator; }
            finally { Environment.SetEnvironmentVariable(AllocatorTypeVariable, operatorValue); }
        }
        return Describe(ByteBufferUtil.DefaultAllocator);
    }

    public static string Describe(IByteBufferAllocator allocator) => allocator switch
    {
        UnpooledByteBufferAllocator => "unpooled",
        PooledByteBufferAllocator => "pooled",
        _ => allocator.GetType().Name,
    };
}
