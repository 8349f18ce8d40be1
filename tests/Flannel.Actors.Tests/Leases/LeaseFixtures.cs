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
}
