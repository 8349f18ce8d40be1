using Xunit;

namespace Flannel.E2E.Tunnel;

/// <summary>
/// Tunnel tests that count every datagram and its order run one after another: two tunnel pairs starting and sending at
/// once on this 2-core machine reordered 646-713 of the 10,000 datagrams of <see cref="UdpDatagramsNetNsTests"/> (its
/// bound is 5 %) in 2 of 6 runs beside <see cref="UdpQueueIdleNetNsTests"/>; one after another, 4 of 4 runs of the
/// tunnel classes passed.
/// </summary>
[CollectionDefinition(Name)]
public sealed class UdpDatagramsCollection
{
    public const string Name = "udp tunnel datagrams";
}
