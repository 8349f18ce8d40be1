using Flannel.Testing;
using System.Collections.Concurrent;
using System.Net;
using Flannel.Net.Backends;
using Xunit;

namespace Flannel.Net.Tests.Backends;

public sealed class SwitchableBackendTests
{
    private readonly ConcurrentQueue<string> _log = new();

    [Fact]
    public void A_switch_tears_the_old_backend_down_before_the_new_one_comes_up_on_the_same_lease()
    {
        using var b = new SwitchableBackend(new TypedFakeBackend("vxlan", 1450, _log, "{\"VNI\":1}"));
        b.Prepare();
        b.Configure(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.3.0/24"));
        Assert.Equal("vxlan", b.SwitchTo(new TypedFakeBackend("udp", 1472, _log)));
        Assert.Equal(["vxlan prepare", "vxlan configure 10.244.3.0/24", "vxlan teardown", "udp prepare", "udp configure 10.244.3.0/24", "vxlan dispose"], _log);
        Assert.Equal(("udp", 1472, (string?)null), (b.Type, b.Mtu, b.LeaseData));
        b.Reconcile([]);
        Assert.Equal("udp reconcile 0", _log.Last());
    }

    [Fact]
    public void Before_the_lease_is_known_the_new_backend_is_only_prepared()
    {
        using var b = new SwitchableBackend(new TypedFakeBackend("vxlan", 1450, _log));
        b.Prepare();
        b.SwitchTo(new TypedFakeBackend("host-gw", 1500, _log));
        Assert.DoesNotContain(_log, l => l.Contains("configure"));
        b.Configure(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.3.0/24"));
        Assert.Equal("host-gw configure 10.244.3.0/24", _log.Last());
    }

    [Fact]
    public void A_backend_that_cannot_start_is_dropped_and_the_old_one_restored()
    {
        using var b = new SwitchableBackend(new TypedFakeBackend("vxlan", 1450, _log));
        b.Prepare();
        b.Configure(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.3.0/24"));
        var broken = new TypedFakeBackend("host-gw", 1500, _log) { FailPrepare = new InvalidOperationException("public IP not on eth0") };
        var e = Assert.Throws<InvalidOperationException>(() => b.SwitchTo(broken));
        Assert.Contains("host-gw cannot start (public IP not on eth0); vxlan restored", e.Message);
        Assert.Equal("vxlan", b.Type);
        Assert.Equal(["vxlan teardown", "host-gw prepare", "host-gw teardown", "host-gw dispose", "vxlan prepare", "vxlan configure 10.244.3.0/24"],
            _log.Skip(2));
    }
}
