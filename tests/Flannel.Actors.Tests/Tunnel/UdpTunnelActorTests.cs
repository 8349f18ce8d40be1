using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Node;
using Flannel.Actors.Tunnel;
using Flannel.Net.Tunnel;
using Xunit;

namespace Flannel.Actors.Tests.Tunnel;

public sealed class UdpTunnelActorTests : TestKit
{
    private static TunnelCounters Counters(long strangers) => new(
        new TrafficCounters(10, 1000), new TrafficCounters(5, 500),
        new Dictionary<DropReason, long>(), new Dictionary<DropReason, long> { [DropReason.Stranger] = strangers },
        [new PeerCounters(IPAddress.Parse("192.0.2.2"), new TrafficCounters(10, 1000), new TrafficCounters(5, 500))], true, 2);

    [Fact]
    public async Task A_dead_tunnel_worker_fails_the_agent()
    {
        Exception? failure = null;
        var status = new AgentStatus("a");
        Sys.ActorOf(UdpTunnelActor.Props(new UdpTunnelProbe(() => failure, () => null), status, TimeSpan.FromMilliseconds(50)));
        await Task.Delay(200);
        Assert.False(status.Failed.IsCompleted);

        failure = new IOException("write to TUN: EBADF");
        var reason = await status.Failed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains("EBADF", reason);
    }

    [Fact]
    public void Counters_are_read_from_the_tunnel_on_request()
    {
        var actor = Sys.ActorOf(UdpTunnelActor.Props(new UdpTunnelProbe(() => null, () => Counters(7)), new AgentStatus("a"),
            TimeSpan.FromMinutes(1)));
        actor.Tell(GetTunnelCounters.Instance);
        var reply = ExpectMsg<TunnelCountersReply>();
        Assert.Equal(7, reply.Counters!.Dropped(DropReason.Stranger));
        Assert.Equal(IPAddress.Parse("192.0.2.2"), Assert.Single(reply.Counters.Peers).PublicIp);
    }
}
