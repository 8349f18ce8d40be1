using System.Net;
using Akka.Actor;
using Flannel.Actors.Leases;

namespace Flannel.Actors.Cmd;

/// <summary>The lease palette's table over the SubnetLeaseActor (GetLeases / ReleaseLease), plus the peers programmed
/// from Kubernetes annotations (<paramref name="foreign"/>; listed, never released: they are not ours to free).</summary>
public sealed class SubnetLeaseTable(IActorRef subnetLeaseActor, TimeSpan? timeout = null,
    Func<IReadOnlyList<Flannel.Actors.Routes.ForeignPeer>>? foreign = null) : ILeaseTable
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<LeaseEntry>> ListAsync(CancellationToken ct)
    {
        var snapshot = await subnetLeaseActor.Ask<LeaseSnapshot>(GetLeases.Instance, _timeout, ct);
        var entries = snapshot.Leases.Values.Select(ToEntry).ToList();
        foreach (var f in foreign?.Invoke() ?? [])
            entries.Add(new LeaseEntry(f.Peer.Subnet, f.Node, f.Peer.PublicIp, f.Peer.BackendType, f.Peer.BackendData,
                DateTimeOffset.MaxValue, 0, LeaseRow.KubeSource));
        return entries;
    }

    public async Task<string?> ReleaseAsync(IPNetwork subnet, bool force, CancellationToken ct)
    {
        // The release goes through the replicated table with write-majority, which may take longer than a read.
        var reply = await subnetLeaseActor.Ask<object>(new ReleaseLease(subnet, ReleaseKind.Operator, force), _timeout * 2, ct);
        return reply switch
        {
            LeaseReleased => null,
            LeaseReleaseFailed f => f.Reason,
            _ => $"unexpected reply {reply.GetType().Name}",
        };
    }

    public static LeaseEntry ToEntry(Lease l) =>
        new(l.Subnet, l.Node, l.PublicIp, l.BackendType, l.BackendData, l.Expiration, l.Version);
}
