using Flannel.Host.Ctl;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

public sealed class CommandPeerPolicyTests
{
    [Fact]
    public void Root_is_served()
    {
        Assert.Null(CommandPeerPolicy.Refusal(new PeerCredentials(4242, 0, 0)));
        // The group does not matter: root with another primary group is still root.
        Assert.Null(CommandPeerPolicy.Refusal(new PeerCredentials(4242, 0, 1000)));
    }

    [Theory]
    [InlineData(1000u, 0u)]
    [InlineData(1u, 0u)]
    [InlineData(65534u, 65534u)]
    public void Any_other_uid_is_refused_naming_it(uint uid, uint gid)
    {
        var refusal = CommandPeerPolicy.Refusal(new PeerCredentials(77, uid, gid));

        Assert.Equal($"permission denied: uid {uid} is not root; only root may run flanneld ctl", refusal);
    }

    [Fact]
    public void A_peer_the_kernel_did_not_describe_is_refused()
    {
        Assert.StartsWith("permission denied: the command host cannot tell who is connecting", CommandPeerPolicy.Refusal(null));
    }
}
