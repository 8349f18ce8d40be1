using Akka.Actor;
using Akka.DistributedData.Serialization;
using Akka.Serialization;

namespace Flannel.Actors.Serialization;

/// <summary>
/// Takes the place of Akka.DistributedData's replicated-data serializer (same name, same identifier 11, bound in
/// <see cref="Leases.LeaseConfig"/>): it serializes with Akka's own and only puts the entries of the map types in a
/// fixed order (<see cref="CanonicalEntryOrder"/>), so equal data gives equal bytes, and equal gossip digests, on every
/// node. Reading is Akka's, unchanged: the format on the wire and in the lease store is the same.
/// </summary>
public sealed class CanonicalReplicatedDataSerializer : SerializerWithStringManifest
{
    /// <summary>The identifier of the serializer this one replaces (Akka.DistributedData's reference.conf).</summary>
    public const int SerializerId = 11;

    private readonly ReplicatedDataSerializer _akka;

    public CanonicalReplicatedDataSerializer(ExtendedActorSystem system) : base(system) => _akka = new ReplicatedDataSerializer(system);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => _akka.Manifest(o);

    public override byte[] ToBinary(object obj)
    {
        var bytes = _akka.ToBinary(obj);
        return IsMap(_akka.Manifest(obj)) ? CanonicalEntryOrder.SortCompressed(bytes, CanonicalEntryOrder.MapEntriesField) : bytes;
    }

    /// <summary>
    /// Akka's manifests of the four whole-map types (ORMap "H", LWWMap "I", PNCounterMap "J", ORMultiMap "K"; their delta
    /// manifests carry a suffix). Their interfaces are internal to Akka.DistributedData, so the manifest tells them.
    /// </summary>
    public static bool IsMap(string manifest) => manifest is "H" or "I" or "J" or "K";

    public override object FromBinary(byte[] bytes, string manifest) => _akka.FromBinary(bytes, manifest);
}
