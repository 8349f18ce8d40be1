using System.Net;
using Akka.Actor;
using Flannel.Actors.Leases;

namespace Flannel.Actors.Cmd;

/// <summary>The lease palette's table over the SubnetLeaseActor (GetLeases / ReleaseLease).</summary>
public sealed class SubnetLeaseTable(IActorRef subnetLeaseActor, TimeSpan? timeout = null) : ILeaseTable
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<LeaseEntry>> ListAsync(CancellationToken ct)
    {
        var snapshot = await subnetLeaseActor.Ask<LeaseSnapshot>(GetLeases.Instance, _timeout, ct);
        return snapshot.Leases.Values.Select(ToEntry).ToList();
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
