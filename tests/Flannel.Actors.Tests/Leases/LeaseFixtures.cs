using System.Collections.Immutable;
using System.Net;
using Flannel.Actors.Leases;

namespace Flannel.Actors.Tests.Leases;

public static class LeaseFixtures
{
    public static Lease Lease(string subnet, string node, string ip, DateTimeOffset? expires = null) =>
        new(IPNetwork.Parse(subnet), node, IPAddress.Parse(ip), "udp", null, expires ?? DateTimeOffset.UtcNow.AddHours(24), 1);

    public static LeaseSnapshot Snapshot(params Lease[] leases) =>
        new(leases.ToImmutableDictionary(l => l.Subnet));

    /// <summary>The table as the lease actor publishes it: with this node's lease <paramref name="own"/>.</summary>
    public static LeaseSnapshot SnapshotWithOwn(Lease own, params Lease[] others) =>
        new(others.Append(own).ToImmutableDictionary(l => l.Subnet), own);
}
