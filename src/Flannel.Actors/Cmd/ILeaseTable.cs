using System.Net;

namespace Flannel.Actors.Cmd;

/// <summary>The lease palette's view of the replicated subnet lease table.</summary>
public interface ILeaseTable
{
    Task<IReadOnlyList<LeaseEntry>> ListAsync(CancellationToken ct);

    /// <summary>Releases the lease on <paramref name="subnet"/> as an operator (the allocator frees a live member's lease
    /// only with <paramref name="force"/>); returns null on success, else the reason it failed.</summary>
    Task<string?> ReleaseAsync(IPNetwork subnet, bool force, CancellationToken ct);
}

/// <summary>A lease as the palettes need it (mirrors the SubnetLeaseActor's Lease, without depending on its shape).</summary>
public sealed record LeaseEntry(
    IPNetwork Subnet, string Node, IPAddress PublicIp, string BackendType, string? BackendData,
    DateTimeOffset Expiration, long Version, string Source = LeaseRow.LeaseSource);
