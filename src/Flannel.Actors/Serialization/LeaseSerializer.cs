using System.Net;
using System.Text;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Serialization;
using Flannel.Actors.Leases;
using Flannel.Net.Config;

namespace Flannel.Actors.Serialization;

/// <summary>
/// JSON wire format for <see cref="Lease"/> (stored inside the replicated LWWDictionary) and the allocator protocol.
/// Explicit DTOs keep the format independent of the C# types (IPAddress/IPNetwork are written as text), so nodes of
/// different builds keep understanding each other; unknown JSON members are ignored.
/// </summary>
public sealed partial class LeaseSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4711;

    private const string LeaseManifest = "L";
    private const string ClaimRequestManifest = "CQ";
    private const string ClaimGrantedManifest = "CG";
    private const string ClaimRefusedManifest = "CR";
    private const string ReleaseRequestManifest = "RQ";
    private const string ReleaseDoneManifest = "RD";
    private const string ReleaseRefusedManifest = "RR";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        Lease => LeaseManifest,
        ClaimRequest => ClaimRequestManifest,
        ClaimGranted => ClaimGrantedManifest,
        ClaimRefused => ClaimRefusedManifest,
        ReleaseRequest => ReleaseRequestManifest,
        ReleaseDone => ReleaseDoneManifest,
        ReleaseRefused => ReleaseRefusedManifest,
        _ => throw new ArgumentException($"LeaseSerializer cannot serialize {o.GetType()}"),
    };

    public override byte[] ToBinary(object obj) => obj switch
    {
        Lease l => Json(LeaseDto.From(l)),
        ClaimRequest m => Json(new ClaimRequestDto(m.RequestId, ClaimDto.From(m.Claim))),
        ClaimGranted m => Json(new ClaimGrantedDto(m.RequestId, LeaseDto.From(m.Lease), m.How)),
        ClaimRefused m => Json(new ClaimRefusedDto(m.RequestId, m.Reason, m.Permanent)),
        ReleaseRequest m => Json(new ReleaseRequestDto(m.RequestId, m.Subnet.ToString(), m.Kind.ToString(), m.Force, m.OriginNode, m.Via)),
        ReleaseDone m => Json(new ReleaseDoneDto(m.RequestId, m.Subnet.ToString(), m.Existed)),
        ReleaseRefused m => Json(new ReleaseRefusedDto(m.RequestId, m.Reason)),
        _ => throw new ArgumentException($"LeaseSerializer cannot serialize {obj.GetType()}"),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        LeaseManifest => Read<LeaseDto>(bytes).ToLease(),
        ClaimRequestManifest => Read<ClaimRequestDto>(bytes) is var d ? new ClaimRequest(d.RequestId, d.Claim.ToClaim()) : null!,
        ClaimGrantedManifest => Read<ClaimGrantedDto>(bytes) is var g ? new ClaimGranted(g.RequestId, g.Lease.ToLease(), g.How) : null!,
        ClaimRefusedManifest => Read<ClaimRefusedDto>(bytes) is var r ? new ClaimRefused(r.RequestId, r.Reason, r.Permanent) : null!,
        ReleaseRequestManifest => Read<ReleaseRequestDto>(bytes).ToRequest(),
        ReleaseDoneManifest => Read<ReleaseDoneDto>(bytes) is var o ? new ReleaseDone(o.RequestId, IPNetwork.Parse(o.Subnet), o.Existed) : null!,
        ReleaseRefusedManifest => Read<ReleaseRefusedDto>(bytes) is var f ? new ReleaseRefused(f.RequestId, f.Reason) : null!,
        _ => throw new SerializationException($"LeaseSerializer: unknown manifest \"{manifest}\""),
    };

    private static byte[] Json<T>(T dto) => JsonSerializer.SerializeToUtf8Bytes(dto, Info<T>());

    private static T Read<T>(byte[] bytes) =>
        JsonSerializer.Deserialize(bytes, Info<T>())
        ?? throw new SerializationException($"LeaseSerializer: null {typeof(T).Name} in {Encoding.UTF8.GetString(bytes)}");

    /// <summary><see cref="Owner"/> is absent in entries written before owners were recorded: it reads as null.</summary>
    private sealed record LeaseDto(string Subnet, string Node, string PublicIp, string BackendType, string? BackendData,
        long ExpirationUnixMs, long Version, string? Owner = null)
    {
        public static LeaseDto From(Lease l) => new(l.Subnet.ToString(), l.Node, l.PublicIp.ToString(), l.BackendType,
            l.BackendData, l.Expiration.ToUnixTimeMilliseconds(), l.Version, l.Owner);

        public Lease ToLease() => new(IPNetwork.Parse(Subnet), Node, IPAddress.Parse(PublicIp), BackendType, BackendData,
            DateTimeOffset.FromUnixTimeMilliseconds(ExpirationUnixMs), Version, Owner);
    }

    /// <summary>Only the IPv4 allocation range of the NetConf travels: it is all the allocator uses.</summary>
    private sealed record ClaimDto(string Node, string PublicIp, string BackendType, string? BackendData,
        string? PreviousSubnet, string? RequiredSubnet, string? Network, int SubnetLen, string? SubnetMin, string? SubnetMax,
        long TtlMs)
    {
        public static ClaimDto From(LeaseClaim c) => new(c.Node, c.PublicIp.ToString(), c.BackendType, c.BackendData,
            c.PreviousSubnet?.ToString(), c.RequiredSubnet?.ToString(), c.Conf.Network?.ToString(), c.Conf.SubnetLen,
            c.Conf.SubnetMin?.ToString(), c.Conf.SubnetMax?.ToString(), (long)c.Ttl.TotalMilliseconds);

        public LeaseClaim ToClaim()
        {
            var conf = new NetConf
            {
                EnableIPv4 = Network is not null,
                Network = Network is null ? null : IPNetwork.Parse(Network),
                SubnetLen = SubnetLen,
                SubnetMin = SubnetMin is null ? null : IPAddress.Parse(SubnetMin),
                SubnetMax = SubnetMax is null ? null : IPAddress.Parse(SubnetMax),
            };
            return new LeaseClaim(Node, IPAddress.Parse(PublicIp), BackendType, BackendData,
                PreviousSubnet is null ? null : IPNetwork.Parse(PreviousSubnet),
                RequiredSubnet is null ? null : IPNetwork.Parse(RequiredSubnet), conf, TimeSpan.FromMilliseconds(TtlMs));
        }
    }

    private sealed record ClaimRequestDto(long RequestId, ClaimDto Claim);
    private sealed record ClaimGrantedDto(long RequestId, LeaseDto Lease, string How);
    private sealed record ClaimRefusedDto(long RequestId, string Reason, bool Permanent);
    /// <summary>
    /// A request from an older flanneld has no Kind: it counts as an operator release without force (the strictest
    /// rule that still lets a dead node's lease go).
    /// </summary>
    private sealed record ReleaseRequestDto(long RequestId, string Subnet, string? Kind = null, bool Force = false,
        string? OriginNode = null, string? Via = null)
    {
        public ReleaseRequest ToRequest() => new(RequestId, IPNetwork.Parse(Subnet),
            Kind is null ? ReleaseKind.Operator
            : Enum.TryParse<ReleaseKind>(Kind, ignoreCase: false, out var kind) && Enum.IsDefined(kind) ? kind
            : throw new SerializationException($"LeaseSerializer: unknown release kind \"{Kind}\""),
            Force, OriginNode ?? "(unknown)", Via ?? "(unknown)");
    }
    private sealed record ReleaseDoneDto(long RequestId, string Subnet, bool Existed);
    private sealed record ReleaseRefusedDto(long RequestId, string Reason);

    private static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)LeaseWireJson.Default.GetTypeInfo(typeof(T))!;

    /// <summary>
    /// The DTOs' serializers, generated at compile time (JsonSerializerDefaults.General: the property names as written,
    /// the format reflection produced). Reflection-based System.Text.Json cannot build them in the NativeAOT form of
    /// flanneld (records with value-type constructor parameters need generic code that is not compiled ahead of time).
    /// </summary>
    [JsonSerializable(typeof(LeaseDto))]
    [JsonSerializable(typeof(ClaimRequestDto))]
    [JsonSerializable(typeof(ClaimGrantedDto))]
    [JsonSerializable(typeof(ClaimRefusedDto))]
    [JsonSerializable(typeof(ReleaseRequestDto))]
    [JsonSerializable(typeof(ReleaseDoneDto))]
    [JsonSerializable(typeof(ReleaseRefusedDto))]
    private sealed partial class LeaseWireJson : JsonSerializerContext;
}
