using System.Net;

namespace Flannel.Net.Config;

/// <summary>
/// A validated net-conf.json with flannel's defaults filled in (SubnetLen, SubnetMin, SubnetMax and their IPv6 twins),
/// so two NetConfs are equal exactly when they configure the same network. Build one with <see cref="Parse"/>.
/// </summary>
public sealed record NetConf
{
    public const string FileName = "net-conf.json";
    public const string DefaultPath = "/etc/kube-flannel/net-conf.json";

    public bool EnableIPv4 { get; init; } = true;
    public bool EnableIPv6 { get; init; }

    /// <summary>The IPv4 pod network; null only when IPv4 is disabled.</summary>
    public IPNetwork? Network { get; init; }
    public int SubnetLen { get; init; }
    /// <summary>Base address of the first subnet handed out (default: the second subnet of Network).</summary>
    public IPAddress? SubnetMin { get; init; }
    /// <summary>Base address of the last subnet handed out (default: the last subnet of Network).</summary>
    public IPAddress? SubnetMax { get; init; }

    public IPNetwork? IPv6Network { get; init; }
    public int IPv6SubnetLen { get; init; }
    public IPAddress? IPv6SubnetMin { get; init; }
    public IPAddress? IPv6SubnetMax { get; init; }

    public BackendConfig Backend { get; init; } = new UdpBackendConfig();

    /// <summary>Parses and validates net-conf.json text; throws <see cref="NetConfException"/> naming field and value.</summary>
    public static NetConf Parse(string json) => NetConfParser.Parse(json);

    /// <summary>Reads and parses a net-conf.json file.</summary>
    public static NetConf Load(string path)
    {
        if (!File.Exists(path)) throw new NetConfException($"{FileName}: {path} not found");
        return Parse(File.ReadAllText(path));
    }

    /// <summary>
    /// Whether a lease subnet is compatible with this config, like flannel's isSubnetConfigCompat: an IPv4 subnet
    /// of exactly SubnetLen whose base lies in SubnetMin..SubnetMax (IPv6 likewise).
    /// </summary>
    public bool Fits(IPNetwork subnet)
    {
        if (subnet.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            if (!EnableIPv4 || SubnetMin is null || SubnetMax is null || subnet.PrefixLength != SubnetLen) return false;
            var b = AddressMath.ToUInt32(subnet.BaseAddress);
            return b >= AddressMath.ToUInt32(SubnetMin) && b <= AddressMath.ToUInt32(SubnetMax);
        }
        if (!EnableIPv6 || IPv6SubnetMin is null || IPv6SubnetMax is null || subnet.PrefixLength != IPv6SubnetLen) return false;
        var b6 = AddressMath.ToUInt128(subnet.BaseAddress);
        return b6 >= AddressMath.ToUInt128(IPv6SubnetMin) && b6 <= AddressMath.ToUInt128(IPv6SubnetMax);
    }

    /// <summary>
    /// Kubernetes mode ignores SubnetLen/Min/Max (the node's podCIDR is the lease): the subnet only has to lie inside
    /// Network (or IPv6Network).
    /// </summary>
    public bool FitsNetwork(IPNetwork subnet)
    {
        var v4 = subnet.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        var net = v4 ? Network : IPv6Network;
        return net is { } n && (v4 ? EnableIPv4 : EnableIPv6)
            && subnet.PrefixLength >= n.PrefixLength && n.Contains(subnet.BaseAddress);
    }

    /// <summary>How many IPv4 subnets SubnetMin..SubnetMax holds (0 when IPv4 is disabled).</summary>
    public long SubnetCount
    {
        get
        {
            if (!EnableIPv4 || SubnetMin is null || SubnetMax is null) return 0;
            var min = AddressMath.ToUInt32(SubnetMin);
            var max = AddressMath.ToUInt32(SubnetMax);
            return max < min ? 0 : (long)((max - min) / AddressMath.BlockSize4(SubnetLen)) + 1;
        }
    }

    /// <summary>The IPv4 subnets SubnetMin..SubnetMax in address order.</summary>
    public IEnumerable<IPNetwork> EnumerateSubnets()
    {
        if (!EnableIPv4 || SubnetMin is null || SubnetMax is null) yield break;
        var step = AddressMath.BlockSize4(SubnetLen);
        var max = (ulong)AddressMath.ToUInt32(SubnetMax);
        for (ulong b = AddressMath.ToUInt32(SubnetMin); b <= max; b += step)
            yield return new IPNetwork(AddressMath.FromUInt32((uint)b), SubnetLen);
    }

    /// <summary>The IPv6 subnets IPv6SubnetMin..IPv6SubnetMax in address order (may be astronomically many: take what you need).</summary>
    public IEnumerable<IPNetwork> EnumerateIPv6Subnets()
    {
        if (!EnableIPv6 || IPv6SubnetMin is null || IPv6SubnetMax is null) yield break;
        var step = AddressMath.BlockSize6(IPv6SubnetLen);
        var max = AddressMath.ToUInt128(IPv6SubnetMax);
        for (var b = AddressMath.ToUInt128(IPv6SubnetMin); b <= max; b += step)
        {
            yield return new IPNetwork(AddressMath.FromUInt128(b), IPv6SubnetLen);
            if (max - b < step) yield break;
        }
    }
}
