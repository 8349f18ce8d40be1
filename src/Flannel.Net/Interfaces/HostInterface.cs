using System.Net;
using System.Net.NetworkInformation;

namespace Flannel.Net.Interfaces;

/// <summary>One interface as the system reports it, with all its IPv4 addresses (address, prefix length) in order.</summary>
public sealed record HostInterface(
    string Name,
    int Index,
    int Mtu,
    PhysicalAddress HardwareAddress,
    IReadOnlyList<(IPAddress Address, int PrefixLength)> IPv4Addresses);

/// <summary>A row of the IPv4 main routing table (/proc/net/route).</summary>
public sealed record RouteEntry(string Interface, IPNetwork Destination, IPAddress Gateway, int Metric);

/// <summary>What the selector needs from the system; faked in tests.</summary>
public interface IInterfaceSource
{
    IReadOnlyList<HostInterface> Interfaces();
    IReadOnlyList<RouteEntry> Routes();
    /// <summary>The source address the kernel would use to reach <paramref name="destination"/>, or null when unroutable.</summary>
    IPAddress? SourceAddressFor(IPAddress destination);
}
