using System.Net;
using Flannel.Net.Config;

namespace Flannel.Actors.Leases;

/// <summary>
/// What a node asks the allocator for: acquisition, renewal and backend changes are all the same claim (the
/// allocator keeps the node's current lease when it still holds and fits, else picks another subnet).
/// </summary>
public sealed record LeaseClaim(
    string Node,
    IPAddress PublicIp,
    string BackendType,
    string? BackendData,
    IPNetwork? PreviousSubnet,
    IPNetwork? RequiredSubnet,
    NetConf Conf,
    TimeSpan Ttl)
{
    public static LeaseClaim From(LeaseOptions o, IPNetwork? current, string backendType, string? backendData) =>
        new(o.NodeName, o.PublicIp, backendType, backendData, current ?? o.PreviousSubnet, o.RequiredSubnet, o.Conf, o.Ttl);
}
