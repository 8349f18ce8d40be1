using System.Net;

namespace Flannel.Net.Backends;

/// <summary>
/// What the data plane needs to know about one remote node: the subnet it owns, where to send its traffic,
/// and how it advertised its backend (type and the backend's JSON data, e.g. {"VNI":1,"VtepMAC":"..."}).
/// Kept in Flannel.Net so backends never depend on the actor layer's lease type.
/// </summary>
public sealed record PeerLease(IPNetwork Subnet, IPAddress PublicIp, string BackendType, string? BackendData);
