namespace Flannel.Net.Config;

/// <summary>
/// The <c>Backend</c> object of net-conf.json, typed per backend. <see cref="RawJson"/> keeps the object as written
/// (for backends that want extra keys) but is left out of equality, so reformatting the file is not a change.
/// </summary>
public abstract record BackendConfig
{
    public const string Udp = "udp";
    public const string Vxlan = "vxlan";
    public const string HostGw = "host-gw";

    public static IReadOnlyList<string> SupportedTypes { get; } = [Udp, Vxlan, HostGw];

    /// <summary>Lower-cased backend type: udp, vxlan or host-gw.</summary>
    public abstract string Type { get; }

    /// <summary>The Backend object compacted to one line, or "{}" when net-conf.json has no Backend.</summary>
    public string RawJson { get; init; } = "{}";

    public virtual bool Equals(BackendConfig? other) =>
        other is not null && EqualityContract == other.EqualityContract && Type == other.Type;

    public override int GetHashCode() => HashCode.Combine(EqualityContract, Type);
}

/// <summary>flannel's udp backend: a TUN device and a UDP socket on <see cref="Port"/>.</summary>
public sealed record UdpBackendConfig(int Port = UdpBackendConfig.DefaultPort) : BackendConfig
{
    public const int DefaultPort = 8285;
    public override string Type => Udp;
}

/// <summary>flannel's vxlan backend. <see cref="Port"/> 0 means the kernel default (8472); <see cref="Mtu"/> 0 means auto.</summary>
public sealed record VxlanBackendConfig(
    int Vni = VxlanBackendConfig.DefaultVni,
    int Port = 0,
    bool Gbp = false,
    bool Learning = false,
    bool DirectRouting = false,
    int Mtu = 0) : BackendConfig
{
    public const int DefaultVni = 1;
    public const int KernelDefaultPort = 8472;
    public override string Type => Vxlan;

    /// <summary>The UDP port actually used on the wire.</summary>
    public int EffectivePort => Port == 0 ? KernelDefaultPort : Port;
}

/// <summary>flannel's host-gw backend: plain routes via the peers' public IPs; no settings.</summary>
public sealed record HostGwBackendConfig : BackendConfig
{
    public override string Type => HostGw;
}
