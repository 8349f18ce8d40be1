using System.Net;
using Flannel.Actors.Node;
using Xunit;

namespace Flannel.Actors.Tests.Node;

public class AgentStatusTests
{
    private static AgentState ReadyState(AgentState s) => s with
    {
        Lease = s.Lease ?? new Flannel.Actors.Leases.Lease(IPNetwork.Parse("10.244.1.0/24"), "host-a", IPAddress.Parse("198.18.0.1"), "vxlan", null, DateTimeOffset.UnixEpoch, 1),
        BackendConfigured = true, SubnetEnvWritten = true, MasqApplied = true, PeersInSync = true,
    };

    [Fact]
    public void BecameReady_is_raised_on_each_turn_to_ready_and_not_while_it_stays_ready()
    {
        var status = new AgentStatus("host-a");
        var raised = 0;
        status.BecameReady += () => raised++;

        status.Update(s => s with { BackendConfigured = true });
        Assert.Equal(0, raised);
        status.Update(ReadyState);
        Assert.Equal(1, raised);
        status.Update(s => s with { PeersProgrammed = s.PeersProgrammed + 1 });
        Assert.Equal(1, raised);
        // A peer joins: not ready until it is programmed, then ready again.
        status.Update(s => s with { PeersInSync = false });
        status.Update(s => s with { PeersInSync = true });
        Assert.Equal(2, raised);
    }
}
