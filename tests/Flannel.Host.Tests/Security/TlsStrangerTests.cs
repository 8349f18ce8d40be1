using System.Net;
using Akka.Actor;
using Flannel.Actors.Observability;
using Flannel.Host.Security;
using Flannel.Testing;
using Xunit;

namespace Flannel.Host.Tests.Security;

/// <summary>
/// Threat T1 in-process: a 2-node TLS cluster holding leases; strangers (plain text, a certificate of another CA, and
/// one that even shows its certificate) try to join and to send ClaimRequest/ReleaseRequest to the allocator by path.
/// None becomes a member, the lease table does not change, the members log the refused handshakes; a node with a
/// certificate of the cluster CA joins (the control that shows the path works).
/// </summary>
public sealed class TlsStrangerTests : IAsyncLifetime
{
    private readonly TestCredentials _creds = new();
    private readonly TlsCluster _cluster = new();

    [Fact]
    public async Task Strangers_never_become_members_and_cannot_claim_or_release_leases_and_members_log_the_refused_handshakes()
    {
        var ca = _creds.Ca("cluster");
        var other = _creds.Ca("other");
        var a = _cluster.Start("node-a", TestCredentials.Load(_creds.Node(ca, "node-a")), leases: true);
        var b = _cluster.Start("node-b", TestCredentials.Load(_creds.Node(ca, "node-b")), leases: true);
        a.Cluster.Join(a.Address);
        b.Cluster.Join(a.Address);
        Assert.Equal("akka.ssl.tcp", a.Address.Protocol);
        await Poll.UntilAsync(() => a.UpMembers == 2 && b.UpMembers == 2, TimeSpan.FromSeconds(20), "2 TLS members Up");
        var leaseA = await TlsCluster.AcquireAsync(a);
        await TlsCluster.AcquireAsync(b);
        await Poll.UntilAsync(async () => (await TlsCluster.TableAsync(a)).Count == 2, TimeSpan.FromSeconds(10), "2 leases replicated");
        var before = await TlsCluster.TableAsync(a);

        var strangers = new[]
        {
            _cluster.Start("plain", tls: null),
            _cluster.Start("other-ca", TestCredentials.Load(_creds.Node(other, "other-ca"))),
            _cluster.Start("other-ca-shows-cert", TestCredentials.Load(_creds.Node(other, "stranger")), suppressValidation: true),
        };
        foreach (var s in strangers)
        {
            // Each at the member's port with its own protocol (Akka ignores a join across protocols).
            var target = new Address(s.Address.Protocol, a.Address.System, a.Address.Host, a.Address.Port);
            s.Cluster.Join(target);
            foreach (var path in new[] { "/user/flannel-lease-allocator/allocator", "/user/flannel-lease-allocator-proxy", "/user/leases" })
            {
                var selection = s.System.ActorSelection(new RootActorPath(target) / path.Split('/', StringSplitOptions.RemoveEmptyEntries));
                selection.Tell(TlsCluster.ReleaseRequest(leaseA.Subnet));
                selection.Tell(TlsCluster.ClaimRequest("stranger", leaseA.Subnet));
            }
        }

        // The members saw every stranger's handshake fail (4003) and name the certificates they were shown (4002).
        await Poll.UntilAsync(() => a.Log.WithId(EventIds.ClusterConnectionRefused.Id).Count() >= 3 &&
                                    a.Log.WithId(EventIds.ClusterCertificateRefused.Id).Any(e => e.Message.Contains("CN=stranger")),
            TimeSpan.FromSeconds(15), "node-a logged the refused handshakes");
        var named = a.Log.WithId(EventIds.ClusterCertificateRefused.Id).First(e => e.Message.Contains("CN=stranger")).Message;
        Assert.Contains("not issued by the cluster CA", named);
        Assert.Contains("subject \"CN=stranger\"", named);
        Assert.Contains("issuer \"CN=other CA\"", named);

        // The control: a node with a certificate of the cluster CA joins through the same port and gets a lease.
        var c = _cluster.Start("node-c", TestCredentials.Load(_creds.Node(ca, "node-c")), leases: true);
        c.Cluster.Join(a.Address);
        await Poll.UntilAsync(() => a.UpMembers == 3 && c.UpMembers == 3, TimeSpan.FromSeconds(20), "node-c Up");
        var leaseC = await TlsCluster.AcquireAsync(c);
        await Poll.UntilAsync(async () => (await TlsCluster.TableAsync(a)).ContainsKey(leaseC.Subnet), TimeSpan.FromSeconds(10),
            "node-c's lease replicated to node-a");

        var members = a.Cluster.State.Members.Select(m => m.Address).ToHashSet();
        Assert.Equal(new[] { a.Address, b.Address, c.Address }.OrderBy(x => x.Port), members.OrderBy(x => x.Port));
        foreach (var s in strangers) Assert.DoesNotContain(s.Address, members);
        var after = await TlsCluster.TableAsync(a);
        Assert.Equal(3, after.Count);
        foreach (var (subnet, lease) in before) Assert.Equal(lease.Node, after[subnet].Node);
        Assert.DoesNotContain(after.Values, l => l.Node == "stranger");
    }

    [Fact]
    public async Task During_a_CA_rotation_nodes_trusting_old_and_new_CA_form_one_cluster_and_a_node_trusting_only_the_new_one_cannot_join_the_old()
    {
        var oldCa = _creds.Ca("old");
        var newCa = _creds.Ca("new");
        var bundle = Path.Combine(_creds.Root, "bundle.crt");
        File.WriteAllText(bundle, oldCa.ExportCertificatePem() + "\n" + newCa.ExportCertificatePem() + "\n");

        var a = _cluster.Start("old-cert", TestCredentials.Load(_creds.Node(oldCa, "old-cert"), bundle));
        var b = _cluster.Start("new-cert", TestCredentials.Load(_creds.Node(newCa, "new-cert"), bundle));
        var onlyNew = _cluster.Start("only-new", TestCredentials.Load(_creds.Node(newCa, "only-new")));
        a.Cluster.Join(a.Address);
        b.Cluster.Join(a.Address);
        await Poll.UntilAsync(() => a.UpMembers == 2 && b.UpMembers == 2, TimeSpan.FromSeconds(20), "old and new certificate in one cluster");

        // A node that does not trust the old CA refuses the old member's certificate itself (and, having failed an
        // outbound handshake, Akka stops it): it never becomes a member.
        onlyNew.Cluster.Join(a.Address);
        await Poll.UntilAsync(() => onlyNew.Log.WithId(EventIds.ClusterCertificateRefused.Id).Any(), TimeSpan.FromSeconds(15),
            "the node trusting only the new CA refused the old certificate");
        Assert.Contains("subject \"CN=old-cert\"", onlyNew.Log.WithId(EventIds.ClusterCertificateRefused.Id).First().Message);
        Assert.DoesNotContain(onlyNew.Address, a.Cluster.State.Members.Select(m => m.Address));
        Assert.Equal(2, a.UpMembers);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _creds.Dispose();
    }
}
