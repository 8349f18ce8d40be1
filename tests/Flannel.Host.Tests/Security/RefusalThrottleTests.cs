using Flannel.Host.Security;
using Xunit;

namespace Flannel.Host.Tests.Security;

public sealed class RefusalThrottleTests
{
    private static readonly DateTime T0 = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void First_refusal_of_a_host_is_reported_then_once_per_window_with_the_count_held_back()
    {
        var t = new RefusalThrottle(TimeSpan.FromMinutes(1));
        Assert.True(t.ShouldReport("198.18.0.200", T0, out var s));
        Assert.Equal(0, s);
        for (var i = 1; i <= 5; i++) Assert.False(t.ShouldReport("198.18.0.200", T0.AddSeconds(i), out _));
        Assert.True(t.ShouldReport("198.18.0.201", T0.AddSeconds(6), out s));
        Assert.Equal(0, s);
        Assert.True(t.ShouldReport("198.18.0.200", T0.AddSeconds(61), out s));
        Assert.Equal(5, s);
    }

    [Fact]
    public void The_host_table_is_bounded()
    {
        var t = new RefusalThrottle(TimeSpan.FromMinutes(1), maxHosts: 3);
        foreach (var h in new[] { "a", "b", "c" }) Assert.True(t.ShouldReport(h, T0, out _));
        Assert.False(t.ShouldReport("a", T0, out _));
        Assert.True(t.ShouldReport("d", T0, out _)); // table full: cleared, so "a" is new again
        Assert.True(t.ShouldReport("a", T0, out _));
    }

    [Theory]
    [InlineData("198.18.0.200:41234", "198.18.0.200")]
    [InlineData("[::ffff:198.18.0.200]:41234", "[::ffff:198.18.0.200]")]
    [InlineData("akka.ssl.tcp://flannel@198.18.0.1:4053", "akka.ssl.tcp://flannel@198.18.0.1:4053")]
    [InlineData("unknown", "unknown")]
    public void Peers_are_counted_by_host_not_by_ephemeral_port(string peer, string host) => Assert.Equal(host, RefusalThrottle.HostOf(peer));
}
