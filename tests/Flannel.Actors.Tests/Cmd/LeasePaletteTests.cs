using Akka.Actor;
using Akka.Cluster;
using Flannel.Testing;
using Flannel.Actors.Cmd;
using Flannel.Actors.Tests.Leases;
using Xunit;

namespace Flannel.Actors.Tests.Cmd;

/// <summary>The lease palette over real SubnetLeaseActors in a 3-node in-process cluster; palettes run on node 0.</summary>
public sealed class LeasePaletteTests : IAsyncLifetime
{
    private readonly LeaseCluster _cluster = new();
    private CmdPalettes _cmd = null!;

    public async Task InitializeAsync()
    {
        await _cluster.StartAsync(3);
        foreach (var node in _cluster.Nodes) await LeaseCluster.AcquireAsync(node);
        await Poll.UntilAsync(async () => (await LeaseCluster.TableAsync(_cluster[0])).Count == 3,
            TimeSpan.FromSeconds(10), "3 leases replicated to node 0");
        var node0 = _cluster[0];
        _cmd = CmdPalettes.Start(node0.System, new CmdContext
        {
            NodeName = node0.Name,
            Leases = new SubnetLeaseTable(node0.Leases),
            // In-process nodes all run on 127.0.0.1, so map the lease's node name to its member address.
            IsLive = (lease, state) => _cluster.Nodes.Any(n => n.Name == lease.Node
                && state.Members.Any(m => m.Address.Equals(n.Address) && m.Status == MemberStatus.Up)
                && state.Unreachable.All(m => !m.Address.Equals(n.Address))),
        });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<CmdReply> Ask(CmdRequest request) => _cmd[CmdPalettes.Lease]!.Ask<CmdReply>(request, TimeSpan.FromSeconds(15));

    private async Task<LeaseListView> List() =>
        (LeaseListView)Assert.IsType<CmdOk>(await Ask(CmdRequest.Of(CmdPalettes.Lease, "list"))).Data;

    [Fact]
    public async Task List_shows_every_lease_with_owner_and_liveness()
    {
        var table = await LeaseCluster.TableAsync(_cluster[0]);

        var view = await List();

        Assert.Equal(3, view.Leases.Count);
        foreach (var row in view.Leases)
        {
            var lease = table.Values.Single(l => l.Subnet.ToString() == row.Subnet);
            Assert.Equal(lease.Node, row.Node);
            Assert.Equal(lease.PublicIp.ToString(), row.PublicIp);
            Assert.Equal("vxlan", row.Backend);
            Assert.Equal(lease.Expiration, row.Expiration);
            Assert.True(row.Live, $"{row.Node} live");
            Assert.Equal(row.Node == "node-0", row.Own);
        }
    }

    [Fact]
    public async Task Show_finds_a_lease_by_node_or_subnet()
    {
        var byNode = (LeaseListView)Assert.IsType<CmdOk>(await Ask(CmdRequest.Of(CmdPalettes.Lease, "show", "node-1"))).Data;
        var row = Assert.Single(byNode.Leases);
        Assert.Equal("node-1", row.Node);

        var bySubnet = (LeaseListView)Assert.IsType<CmdOk>(await Ask(CmdRequest.Of(CmdPalettes.Lease, "show", row.Subnet))).Data;
        Assert.Equal(row, Assert.Single(bySubnet.Leases));

        var none = Assert.IsType<CmdFailed>(await Ask(CmdRequest.Of(CmdPalettes.Lease, "show", "node-9")));
        Assert.Contains("no lease for 'node-9'", none.Error);
    }

    [Fact]
    public async Task Release_of_a_live_node_is_refused_without_force()
    {
        var subnet = (await List()).Leases.Single(l => l.Node == "node-1").Subnet;

        var refused = Assert.IsType<CmdFailed>(await Ask(CmdRequest.Of(CmdPalettes.Lease, "release", subnet)));

        Assert.Equal(CmdExitCodes.NotConfirmed, refused.ExitCode);
        Assert.Contains("node-1", refused.Error);
        Assert.Contains("--force", refused.Error);
        Assert.Contains((await LeaseCluster.TableAsync(_cluster[0])).Keys, k => k.ToString() == subnet);
    }

    [Fact]
    public async Task Release_of_a_dead_node_frees_its_subnet()
    {
        var dead = _cluster[2];
        var subnet = (await List()).Leases.Single(l => l.Node == dead.Name).Subnet;
        await LeaseCluster.StopAsync(dead);
        await Poll.UntilAsync(async () => !(await List()).Leases.Single(l => l.Node == dead.Name).Live,
            TimeSpan.FromSeconds(20), "node-2's lease no longer live");

        var ok = Assert.IsType<CmdOk>(await Ask(CmdRequest.Of(CmdPalettes.Lease, "release", subnet)));

        Assert.Contains($"released {subnet}", ((CmdAck)ok.Data).Message);
        await Poll.UntilAsync(async () => (await LeaseCluster.TableAsync(_cluster[1])).Keys.All(k => k.ToString() != subnet),
            TimeSpan.FromSeconds(10), "subnet gone from node 1's table");
        Assert.DoesNotContain((await List()).Leases, l => l.Subnet == subnet);
    }

    [Fact]
    public async Task Release_needs_a_subnet_that_is_leased()
    {
        var notCidr = Assert.IsType<CmdFailed>(await Ask(CmdRequest.Of(CmdPalettes.Lease, "release", "node-1")));
        Assert.Equal(CmdExitCodes.Usage, notCidr.ExitCode);
        Assert.Contains("'node-1' is not a subnet", notCidr.Error);

        var unknown = Assert.IsType<CmdFailed>(await Ask(CmdRequest.Of(CmdPalettes.Lease, "release", "10.9.9.0/24")));
        Assert.Contains("no lease for 10.9.9.0/24", unknown.Error);
    }
}
