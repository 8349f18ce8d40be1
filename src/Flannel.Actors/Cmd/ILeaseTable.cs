using System.Net;

namespace Flannel.Actors.Cmd;

/// <summary>The lease palette's view of the replicated subnet lease table.</summary>
public interface ILeaseTable
{
    Task<IReadOnlyList<LeaseEntry>> ListAsync(CancellationToken ct);

    /// <summary>Releases the lease on <paramref name="subnet"/>; returns null on success, else the reason it failed.</summary>
    Task<string?> ReleaseAsync(IPNetwork subnet, CancellationToken ct);
}

/// <summary>A lease as the palettes need it (mirrors the SubnetLeaseActor's Lease, without depending on its shape).</summary>
public sealed record LeaseEntry(
    IPNetwork Subnet, string Node, IPAddress PublicIp, string BackendType, string? BackendData,
    DateTimeOffset Expiration, long Version);
