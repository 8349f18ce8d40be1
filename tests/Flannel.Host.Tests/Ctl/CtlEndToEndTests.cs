using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Akka.Cluster;
using Flannel.Testing;
using Flannel.Actors.Cmd;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Host.Ctl;
using Flannel.Host.Health;
using Flannel.Host.Logging;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

/// <summary>`flanneld ctl` through the real command host on its Unix socket, against a 2-node in-process cluster.</summary>
public sealed class CtlEndToEndTests : IAsyncLifetime
{
    // node-0's and node-1's public IP is the members' host (127.0.0.1), so they count as live; node-9 is gone.
    private readonly FakeLeaseTable _leases = new(
        FakeLeaseTable.Lease("10.5.1.0/24", "node-0", "127.0.0.1"),
        FakeLeaseTable.Lease("10.5.2.0/24", "node-1", "127.0.0.1"),
        FakeLeaseTable.Lease("10.5.9.0/24", "node-9", "192.0.2.9", TimeSpan.FromMinutes(-5)));
    private readonly LogLevelSwitch _level = new(Microsoft.Extensions.Logging.LogLevel.Information);
    private readonly AgentStatus _status = new("node-0");
    private CtlCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await CtlCluster.StartAsync(2, _ => new CmdContext
        {
            NodeName = "node-0", Leases = _leases, LogLevel = _level,
            Status = _ => Task.FromResult<object>(StatusView.From(_status.Current,
                [new MemberView("akka.tcp://flannel@127.0.0.1:4053", "Up", true, true)], null)),
        });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static T Json<T>(CtlResult r) => JsonSerializer.Deserialize<T>(r.Stdout, CtlWire.Json)!;

    [Fact]
    public async Task Cluster_show_prints_members_status_and_leader()
    {
        var r = await _cluster.Ctl("cluster", "show");

        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var node in _cluster.Nodes) Assert.Contains(Cluster.Get(node).SelfAddress.ToString(), r.Stdout);
        Assert.Contains("cluster members (2 up, 0 unreachable)", r.Stdout);
        Assert.Contains($"leader: {Cluster.Get(_cluster.Nodes[0]).State.Leader}", r.Stdout);
        Assert.Contains("(self)", r.Stdout);
    }

    [Fact]
    public async Task Cluster_show_json_is_the_cluster_view()
    {
        var r = await _cluster.Ctl("--json", "cluster", "show");

        Assert.True(r.ExitCode == 0, r.ToString());
        var view = Json<ClusterView>(r);
        Assert.Equal(_cluster.Nodes.Select(n => Cluster.Get(n).SelfAddress.ToString()).Order(), view.Members.Select(m => m.Address).Order());
        Assert.All(view.Members, m => Assert.Equal("Up", m.Status));
    }

    [Fact]
    public async Task Cluster_leave_removes_the_member()
    {
        var leaver = _cluster.Nodes[1];

        var r = await _cluster.Ctl("cluster", "leave", CtlCluster.HostPort(leaver));

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("is leaving the cluster", r.Stdout);
        await Poll.UntilAsync(async () => Json<ClusterView>(await _cluster.Ctl("--json", "cluster", "show")).Members.Count == 1,
            TimeSpan.FromSeconds(20), "one member left");
        await leaver.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Cluster_tail_streams_events_until_interrupted()
    {
        var stdout = new ConcurrentWriter();
        var stderr = new ConcurrentWriter();
        using var interrupt = new CancellationTokenSource();
        var run = CtlCommand.RunAsync([.. _cluster.Target, "cluster", "tail"], stdout, stderr, TextReader.Null, false, interrupt.Token);

        await Poll.UntilAsync(() => stdout.ToString().Split("MemberUp").Length - 1 == 2, TimeSpan.FromSeconds(10), "two MemberUp lines");
        interrupt.Cancel();

        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("", stderr.ToString());
        // The host noticed the disconnect: the tail actor under the cluster palette is gone.
        await Poll.UntilAsync(async () =>
            !(await _cluster.Ctl("--json", "actor", "hierarchy")).Stdout.Contains(nameof(ClusterTailActor)),
            TimeSpan.FromSeconds(5), "tail actor stopped");
    }

    [Fact]
    public async Task Cluster_tail_json_prints_one_object_per_event()
    {
        var stdout = new ConcurrentWriter();
        using var interrupt = new CancellationTokenSource();
        var run = CtlCommand.RunAsync([.. _cluster.Target, "--json", "cluster", "tail"], stdout, TextWriter.Null,
            TextReader.Null, false, interrupt.Token);
        await Poll.UntilAsync(() => stdout.ToString().Count(c => c == '\n') >= 2, TimeSpan.FromSeconds(10), "two event lines");
        interrupt.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(5));

        var events = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonSerializer.Deserialize<ClusterEventRow>(l, CtlWire.Json)!).ToList();
        Assert.Contains(events, e => e.Event == "MemberUp" && e.Address == Cluster.Get(_cluster.Nodes[1]).SelfAddress.ToString());
    }

    [Fact]
    public async Task Status_json_is_the_agents_status_view_and_the_table_shows_it()
    {
        var lease = new Lease(IPNetwork.Parse("10.5.1.0/24"), "node-0", IPAddress.Parse("192.0.2.1"), "vxlan", null,
            DateTimeOffset.UtcNow.AddHours(24), 1);
        _status.Update(s => s with
        {
            Lease = lease, Leases = [lease], BackendType = "vxlan", BackendConfigured = true, SubnetEnvWritten = true,
            MasqApplied = true, PeersInSync = true, PeersDesired = 2, PeersProgrammed = 2,
        });

        var json = await _cluster.Ctl("status", "--json");
        var table = await _cluster.Ctl("status");

        Assert.True(json.ExitCode == 0, json.ToString());
        var view = Json<StatusView>(json);
        Assert.Equal(("node-0", true, "vxlan"), (view.Node, view.Ready, view.Backend));
        Assert.Equal("10.5.1.0/24", view.Lease!.Subnet);
        Assert.Equal(["10.5.1.0/24"], view.Leases.Select(l => l.Subnet));
        Assert.Equal(2, view.Reconcile.PeersProgrammed);
        Assert.Equal("akka.tcp://flannel@127.0.0.1:4053", Assert.Single(view.Members).Address);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("flanneld on node-0", table.Stdout);
        Assert.Contains("10.5.1.0/24", table.Stdout);
        Assert.Contains("2/2 programmed, in sync", table.Stdout);
    }

    [Fact]
    public async Task Lease_list_shows_subnet_node_ip_backend_expiry()
    {
        var table = await _cluster.Ctl("lease", "list");
        var json = Json<LeaseListView>(await _cluster.Ctl("--json", "lease", "list"));

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("subnet leases (3)", table.Stdout);
        Assert.Contains("10.5.1.0/24", table.Stdout);
        Assert.Contains("node-0 (self)", table.Stdout);
        Assert.Contains("192.0.2.9", table.Stdout);
        Assert.Contains("expired 5m", table.Stdout);
        Assert.Equal(["10.5.1.0/24", "10.5.2.0/24", "10.5.9.0/24"], json.Leases.Select(l => l.Subnet));
        Assert.Equal([true, true, false], json.Leases.Select(l => l.Live));
        Assert.Equal("node-0", json.Self);
    }

    [Fact]
    public async Task Lease_release_asks_first_and_a_no_keeps_the_lease()
    {
        var declined = await _cluster.CtlWithInput("n\n", "lease", "release", "10.5.9.0/24");
        var noInput = await _cluster.CtlWithInput(null, "lease", "release", "10.5.9.0/24");

        Assert.Equal(CmdExitCodes.NotConfirmed, declined.ExitCode);
        Assert.Contains("release the lease on 10.5.9.0/24?", declined.Stderr);
        Assert.Contains("not confirmed", declined.Stderr);
        Assert.Equal(CmdExitCodes.NotConfirmed, noInput.ExitCode);
        Assert.Contains("pass --yes", noInput.Stderr);
        Assert.Empty(_leases.Released);
    }

    [Fact]
    public async Task Lease_release_of_a_dead_node_frees_the_subnet()
    {
        var confirmed = await _cluster.CtlWithInput("y\n", "lease", "release", "10.5.9.0/24");

        Assert.True(confirmed.ExitCode == 0, confirmed.ToString());
        Assert.Contains("released 10.5.9.0/24 (was held by node-9)", confirmed.Stdout);
        Assert.DoesNotContain(IPNetwork.Parse("10.5.9.0/24"), _leases.Subnets);
        Assert.Equal([false], _leases.ReleasedForce);
    }

    [Fact]
    public async Task Lease_release_of_a_live_node_needs_force()
    {
        var refused = await _cluster.Ctl("lease", "release", "10.5.2.0/24", "--yes");
        Assert.Equal(CmdExitCodes.NotConfirmed, refused.ExitCode);
        Assert.Contains("node-1", refused.Stderr);
        Assert.Contains("Use --force", refused.Stderr);
        Assert.Empty(_leases.Released);

        var forced = await _cluster.Ctl("lease", "release", "10.5.2.0/24", "--yes", "--force");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Equal([IPNetwork.Parse("10.5.2.0/24")], _leases.Released);
        // The allocator judges the release again; it must see the operator's --force.
        Assert.Equal([true], _leases.ReleasedForce);
    }

    [Fact]
    public async Task Log_level_changes_the_process_switch()
    {
        var r = await _cluster.Ctl("log", "level", "debug");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("log level: Debug (was Information)", r.Stdout);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, _level.Level);
    }

    [Fact]
    public async Task Sources_the_agent_did_not_give_are_reported_not_fatal()
    {
        var r = await _cluster.Ctl("routes");

        Assert.Equal(CmdExitCodes.Failed, r.ExitCode);
        Assert.Equal("ctl: 'routes show' is not available on this agent\n", r.Stderr);
    }

    [Fact]
    public async Task Usage_errors_exit_2_before_connecting()
    {
        var unknownPalette = await _cluster.Ctl("bogus");
        var unknownCommand = await _cluster.Ctl("cluster", "bogus");

        Assert.Equal(CmdExitCodes.Usage, unknownPalette.ExitCode);
        Assert.Contains("unknown palette 'bogus'", unknownPalette.Stderr);
        Assert.Equal(CmdExitCodes.Usage, unknownCommand.ExitCode);
        Assert.Contains("unknown command 'cluster bogus'", unknownCommand.Stderr);
    }

    [Fact]
    public async Task A_malformed_request_line_gets_an_error_line()
    {
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(_cluster.SocketPath));
        await using var stream = new NetworkStream(client);
        await stream.WriteAsync("not json\n"u8.ToArray());
        using var reader = new StreamReader(stream, Encoding.UTF8);

        var response = CtlWire.ParseResponse((await reader.ReadLineAsync())!);

        Assert.Equal(CtlWire.Kinds.Error, response.Kind);
        Assert.Equal(CmdExitCodes.Usage, response.ExitCode);
        Assert.StartsWith("bad request: request is not JSON", response.Error);
        Assert.Null(await reader.ReadLineAsync());
    }
}
