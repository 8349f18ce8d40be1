using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Flannel.Actors.Kubernetes;

namespace Flannel.Actors.Serialization;

/// <summary>
/// Wire format of the Kubernetes seed discovery's probe (<see cref="BootstrapProbe"/>, <see cref="BootstrapProbeReply"/>):
/// an explicit binding, so these messages no longer need the JSON fallback that <see cref="UnboundMessageSerializer"/>
/// replaces. The probe is empty; the reply is a small JSON object.
/// </summary>
public sealed partial class BootstrapProbeSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4721;

    private const string ProbeManifest = "BP";
    private const string ReplyManifest = "BR";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        BootstrapProbe => ProbeManifest,
        BootstrapProbeReply => ReplyManifest,
        _ => throw new ArgumentException($"BootstrapProbeSerializer cannot serialize {o.GetType()}"),
    };

    public override byte[] ToBinary(object obj) => obj switch
    {
        BootstrapProbe => [],
        BootstrapProbeReply r => JsonSerializer.SerializeToUtf8Bytes(new ReplyDto(r.IsMember, r.Members), ProbeWireJson.Default.ReplyDto),
        _ => throw new ArgumentException($"BootstrapProbeSerializer cannot serialize {obj.GetType()}"),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        ProbeManifest => new BootstrapProbe(),
        ReplyManifest => Reply(bytes),
        _ => throw new SerializationException($"BootstrapProbeSerializer: unknown manifest \"{manifest}\""),
    };

    private static BootstrapProbeReply Reply(byte[] bytes)
    {
        ReplyDto? dto;
        try { dto = JsonSerializer.Deserialize(bytes, ProbeWireJson.Default.ReplyDto); }
        catch (JsonException e) { throw new SerializationException($"BootstrapProbeSerializer: bad reply: {e.Message}"); }
        if (dto?.Members is null || dto.Members.Any(m => m is null))
            throw new SerializationException($"BootstrapProbeSerializer: reply without members: {Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 200))}");
        return new BootstrapProbeReply(dto.IsMember, dto.Members);
    }

    private sealed record ReplyDto(bool IsMember, string[] Members);

    /// <summary>Generated at compile time (the reflection serializer's format): the NativeAOT form of flanneld cannot build it by reflection.</summary>
    [JsonSerializable(typeof(ReplyDto))]
    private sealed partial class ProbeWireJson : JsonSerializerContext;
}
