using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Serialization;

/// <summary>
/// Takes the place of Akka's default "json" serializer (Newtonsoft, identifier 1, bound to System.Object), so only
/// message types with an explicit binding cross the wire. Akka's JSON serializer would instantiate whatever type a
/// peer names in "$type"; this one refuses both ways: sending an unbound type throws naming the type (Akka.Remote logs
/// and drops it), and a message that arrives with identifier 1 is refused naming its manifest before anything is
/// instantiated (Akka.Remote logs it and drops it; the association stays up). Bound in <see cref="WireConfig"/>.
/// </summary>
public sealed class UnboundMessageSerializer : SerializerWithStringManifest
{
    /// <summary>The identifier of the serializer this one replaces: peers that still send JSON use it.</summary>
    public const int SerializerId = 1;

    private readonly ILogger _log;

    public UnboundMessageSerializer(ExtendedActorSystem system) : base(system) => _log = system.FlannelLogger("Flannel.Security");

    /// <summary>Akka passes akka.actor.serialization-settings.json (the replaced serializer's settings) when present; unused.</summary>
    public UnboundMessageSerializer(ExtendedActorSystem system, Akka.Configuration.Config _) : this(system) { }

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => throw Unbound(o);

    public override byte[] ToBinary(object obj) => throw Unbound(obj);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var shown = UntrustedText.Clip(manifest);
        _log.WireMessageRefused(shown, bytes.Length);
        throw new SerializationException(
            $"refused an incoming message of serializer id {SerializerId} (manifest \"{shown}\", {bytes.Length} bytes): " +
            "only message types bound to a flannel serializer are accepted");
    }

    private static SerializationException Unbound(object o) =>
        new($"{o.GetType().FullName} has no serializer binding: only bound message types may be sent to another node " +
            "(bind it in akka.actor.serialization-bindings)");
}
