using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Actors.Tests.Leases;
using Flannel.Testing;
using Xunit;

namespace Flannel.Actors.Tests.Node;

/// <summary>
/// <see cref="FirstSeedBootstrap"/> in a real actor system on loopback (plain TCP; the TLS transport fails a connect the
/// same way): seed-node-timeout is 30 s here, so a node that is Up within seconds formed through the refusals, not
/// through Akka's timeout.
/// </summary>
public sealed class FirstSeedBootstrapTests : IAsyncLifetime
{
    private readonly ActorSystem _system = ActorSystem.Create("flannel", ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.cluster.seed-node-timeout = 30s
        akka.loglevel = WARNING
        """).WithFallback(LeaseConfig.Default));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _system.Terminate();

    private Address Seed(int port) => new(Cluster.Get(_system).SelfAddress.Protocol, "flannel", "127.0.0.1", port);

    private void Start(params Address[] others)
    {
        var self = Cluster.Get(_system).SelfAddress;
        _system.ActorOf(BootstrapProbeResponder.Props(), BootstrapProbeResponder.Name);
        _system.ActorOf(FirstSeedBootstrap.Props(new FirstSeedBootstrapSettings([self, .. others], others, TimeSpan.FromSeconds(1))), FirstSeedBootstrap.Name);
    }

    [Fact]
    public async Task Every_other_seed_refusing_forms_the_cluster_at_once()
    {
        // Pins Akka.Remote's report of a refused connection, which the bootstrap relies on.
        var refusals = new TaskCompletionSource<AssociationErrorEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = _system.ActorOf(Props.Create(() => new Forward(e => refusals.TrySetResult(e))));
        _system.EventStream.Subscribe(listener, typeof(AssociationErrorEvent));

        var clock = Stopwatch.StartNew();
        Start(Seed(LeaseCluster.FreePort()), Seed(LeaseCluster.FreePort()));
        var cluster = Cluster.Get(_system);
        await Poll.UntilAsync(() => cluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(10), "self Up");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"Up after {clock.Elapsed.TotalSeconds:0.0} s");

        var refused = await refusals.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(RefusedAssociation.Is(refused.Cause), $"Akka reported a refused connection as: {refused.Cause}");
    }

    [Fact]
    public async Task A_seed_that_accepts_but_never_answers_leaves_the_start_to_Akkas_timeout()
    {
        // Something listens there (it takes the connection, says nothing): it is not known to run no cluster.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptTcpClientAsync();
        Start(Seed(LeaseCluster.FreePort()), Seed(((IPEndPoint)silent.LocalEndpoint).Port));
        var cluster = Cluster.Get(_system);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.NotEqual(MemberStatus.Up, cluster.SelfMember.Status);
        Assert.True(accepted.IsCompleted, "the bootstrap did not connect to the listening seed");
        // Handed over to Akka's first-seed process: the bootstrap actor is gone.
        var gone = await _system.ActorSelection($"/user/{FirstSeedBootstrap.Name}").Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(3));
        Assert.Null(gone.Subject);
        (await accepted).Dispose();
    }

    private sealed class Forward : ReceiveActor
    {
        public Forward(Action<AssociationErrorEvent> to) => Receive<AssociationErrorEvent>(to);
    }
}
