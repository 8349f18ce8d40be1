using System.Net;
using System.Net.NetworkInformation;

namespace Flannel.Net.Interfaces;

/// <summary>
/// The interface flanneld uses for inter-host traffic: its IPv4 address (the tunnel's local end) and the public IP
/// advertised in the lease, which is the interface address unless --public-ip overrides it (NAT).
/// </summary>
public sealed record ExternalInterface(
    string Name,
    int Index,
    IPAddress Address,
    int PrefixLength,
    int Mtu,
    PhysicalAddress HardwareAddress)
{
    /// <summary>The address other hosts send to; defaults to <see cref="Address"/>.</summary>
    public IPAddress PublicIp { get; init; } = Address;

    public override string ToString() => $"{Name} (index {Index}, {Address}/{PrefixLength}, mtu {Mtu}, public {PublicIp})";
}
