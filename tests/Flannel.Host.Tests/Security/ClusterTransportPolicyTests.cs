using Flannel.Host.Security;
using Xunit;

namespace Flannel.Host.Tests.Security;

public sealed class ClusterTransportPolicyTests
{
    [Theory]
    [InlineData(true, false, true, ClusterTransportMode.Tls)]
    [InlineData(true, false, false, ClusterTransportMode.Tls)]
    [InlineData(false, false, true, ClusterTransportMode.Refuse)]
    [InlineData(false, false, false, ClusterTransportMode.LocalOnly)]
    [InlineData(false, true, true, ClusterTransportMode.Insecure)]
    [InlineData(false, true, false, ClusterTransportMode.Insecure)]
    public void Only_TLS_or_an_explicit_insecure_flag_lets_a_node_join_others(bool tls, bool insecure, bool joinsOthers, ClusterTransportMode mode) =>
        Assert.Equal(mode, ClusterTransportPolicy.Decide(tls, insecure, joinsOthers));

    [Fact]
    public void The_refusal_names_the_flags_that_fix_it()
    {
        var m = ClusterTransportPolicy.RefusalMessage(4053, kubeDiscovery: true);
        foreach (var flag in new[] { "--cluster-tls-cert", "--cluster-tls-key", "--cluster-tls-ca", "--cluster-insecure", "flanneld certs", "4053" })
            Assert.Contains(flag, m);
        Assert.Contains("Kubernetes", m);
        Assert.Contains("--cluster-seeds", ClusterTransportPolicy.RefusalMessage(4053, kubeDiscovery: false));
    }
}
