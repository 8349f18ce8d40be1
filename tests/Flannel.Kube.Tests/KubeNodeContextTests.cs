using System.Net;
using Flannel.Host.Kubernetes;
using Flannel.Host.Options;
using Flannel.Kube.TestServer;
using Flannel.Net.Config;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>What --kube-subnet-mgr learns before the agent starts: node name, podCIDR (waited for), overwrite, net-conf.</summary>
public sealed class KubeNodeContextTests : IAsyncLifetime
{
    private KubeTestServer _server = null!;
    private readonly RecordingLogger _log = new();

    public async Task InitializeAsync()
    {
        _server = await KubeTestServer.StartAsync();
        _server.Put(Seed.Namespace(Seed.FlannelNamespace), Seed.Node("node-a", "10.244.1.0/24", "10.99.0.1",
                new Dictionary<string, string> { ["flannel.alpha.coreos.com/public-ip-overwrite"] = "203.0.113.7" }),
            Seed.Node("node-c"), Seed.FlannelPod("kube-flannel-ds-x1", "node-a", "10.99.0.1"), Seed.FlannelConfig());
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private FlanneldOptions Options(string nodeName) => new()
    {
        KubeSubnetMgr = true,
        KubeApiUrl = _server.BaseUri.ToString(),
        NodeName = nodeName,
        NetConfigPath = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "net-conf.json"),
    };

    [Fact]
    public async Task The_node_podCIDR_overwrite_and_the_configmap_net_conf_are_read()
    {
        var ctx = await KubeNodeContext.LoadAsync(Options("node-a"), _log, CancellationToken.None);
        Assert.Equal("node-a", ctx.NodeName);
        Assert.Equal(IPNetwork.Parse("10.244.1.0/24"), ctx.PodCidr);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), ctx.PublicIpOverwrite);
        Assert.Equal(Seed.NetConfVxlan, ctx.ConfigMapNetConf);
    }

    [Fact]
    public async Task The_node_name_comes_from_the_pod_when_only_POD_NAME_and_POD_NAMESPACE_are_set()
    {
        var options = Options(Environment.MachineName) with { PodName = "kube-flannel-ds-x1", PodNamespace = Seed.FlannelNamespace };
        var ctx = await KubeNodeContext.LoadAsync(options, _log, CancellationToken.None);
        Assert.Equal("node-a", ctx.NodeName);
    }

    [Fact]
    public async Task A_node_without_podCIDR_is_waited_for_like_flannel()
    {
        var loading = KubeNodeContext.LoadAsync(Options("node-c"), _log, CancellationToken.None);
        await Task.Delay(1500);
        Assert.False(loading.IsCompleted);
        Assert.Contains("node \"node-c\" pod cidr not assigned; waiting", _log.Messages);

        _server.Put(Seed.Node("node-c", "10.244.3.0/24"));
        var ctx = await loading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(IPNetwork.Parse("10.244.3.0/24"), ctx.PodCidr);
    }

    [Fact]
    public async Task A_podCIDR_outside_Network_is_a_clear_error()
    {
        var ctx = await KubeNodeContext.LoadAsync(Options("node-a"), _log, CancellationToken.None);
        var e = Assert.Throws<InvalidOperationException>(() => ctx.RequirePodCidrInside(NetConf.Parse("""{"Network":"10.10.0.0/16"}""")));
        Assert.Contains("node \"node-a\" podCIDR 10.244.1.0/24 is not inside Network 10.10.0.0/16", e.Message);
        ctx.RequirePodCidrInside(NetConf.Parse(Seed.NetConfVxlan));
    }

    [Fact]
    public async Task An_unknown_node_is_an_error_naming_it()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => KubeNodeContext.LoadAsync(Options("node-z"), _log, CancellationToken.None));
        Assert.Contains("cannot read node \"node-z\": HTTP 404", e.Message);
    }

    private sealed class RecordingLogger : ILogger
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get { lock (_messages) return _messages.ToList(); }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages) _messages.Add(formatter(state, exception));
        }
    }
}
