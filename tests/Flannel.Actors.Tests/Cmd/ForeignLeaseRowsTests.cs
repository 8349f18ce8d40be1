using System.Net;
using Akka.Actor;
using Akka.Configuration;
using Flannel.Actors.Cmd;
using Flannel.Net.Backends;
using Xunit;

namespace Flannel.Actors.Tests.Cmd;

/// <summary>`ctl lease list` / `ctl routes` with peers from Kubernetes annotations (issue #17): shown with their source,
/// never live, never releasable.</summary>
public sealed class ForeignLeaseRowsTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
{
    private sealed class Table(IReadOnlyList<LeaseEntry> entries) : ILeaseTable
    {
        public int Releases;

        public Task<IReadOnlyList<LeaseEntry>> ListAsync(CancellationToken ct) => Task.FromResult(entries);

        public Task<string?> ReleaseAsync(IPNetwork subnet, bool force, CancellationToken ct)
        {
            Interlocked.Increment(ref Releases);
            return Task.FromResult<string?>(null);
        }
    }

    private static readonly LeaseEntry Member = new(IPNetwork.Parse("10.244.2.0/24"), "b", IPAddress.Parse("198.18.0.2"), "vxlan", null,
        DateTimeOffset.UtcNow.AddHours(1), 3);
    private static readonly LeaseEntry Foreign = new(IPNetwork.Parse("10.244.3.0/24"), "c", IPAddress.Parse("198.18.0.3"), "vxlan", null,
        DateTimeOffset.MaxValue, 0, LeaseRow.KubeSource);

    [Fact]
    public async Task Lease_list_shows_the_source_and_release_refuses_a_foreign_peer()
    {
        var table = new Table([Member, Foreign]);
        var palette = Sys.ActorOf(LeasePaletteActor.Props(new CmdContext { NodeName = "a", Leases = table }));

        var view = (LeaseListView)Assert.IsType<CmdOk>(await palette.Ask<CmdReply>(CmdRequest.Of(CmdPalettes.Lease, "list"), TimeSpan.FromSeconds(10))).Data;
        Assert.Equal([(LeaseRow.LeaseSource, "10.244.2.0/24"), (LeaseRow.KubeSource, "10.244.3.0/24")], view.Leases.Select(r => (r.Source, r.Subnet)));
        Assert.False(view.Leases[1].Live);

        var release = Assert.IsType<CmdFailed>(await palette.Ask<CmdReply>(CmdRequest.Of(CmdPalettes.Lease, "release", "10.244.3.0/24"), TimeSpan.FromSeconds(10)));
        Assert.Contains("kube annotations", release.Error, StringComparison.Ordinal);
        Assert.Equal(0, table.Releases);
    }

    [Fact]
    public void Routes_view_labels_the_rows_by_source()
    {
        var statuses = new[]
        {
            new PeerRouteStatus(IPNetwork.Parse("10.244.2.0/24"), IPAddress.Parse("198.18.0.2"), "vxlan", PeerRouteState.InSync, "d", "a", []),
            new PeerRouteStatus(IPNetwork.Parse("10.244.3.0/24"), IPAddress.Parse("198.18.0.3"), "vxlan", PeerRouteState.InSync, "d", "a", []),
        };
        var view = CmdSources.ToRoutesView("vxlan", statuses, new Dictionary<IPNetwork, string> { [IPNetwork.Parse("10.244.3.0/24")] = "c" });
        Assert.Equal([LeaseRow.LeaseSource, LeaseRow.KubeSource], view.Routes.Select(r => r.Source));
    }
}
