using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Flannel.Net.Config;

/// <summary>
/// flannel's ParseConfig + CheckNetworkConfig (pkg/subnet/config.go), with Go's encoding/json key matching
/// (case-insensitive; a later duplicate wins; null leaves the default; unknown keys are ignored).
/// </summary>
internal static class NetConfParser
{
    private const string Src = NetConf.FileName;

    public static NetConf Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new NetConfException($"{Src}: invalid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new NetConfException($"{Src}: expected a JSON object, got {doc.RootElement.ValueKind}");
            var root = new Fields(doc.RootElement, "");

            var conf = new NetConf
            {
                EnableIPv4 = root.Bool("EnableIPv4") ?? true,
                EnableIPv6 = root.Bool("EnableIPv6") ?? false,
                Backend = ParseBackend(root),
            };
            var network = root.Cidr("Network", AddressFamily.InterNetwork);
            var subnetLen = root.UInt("SubnetLen");
            var subnetMin = root.Address("SubnetMin", AddressFamily.InterNetwork);
            var subnetMax = root.Address("SubnetMax", AddressFamily.InterNetwork);
            var v6Network = root.Cidr("IPv6Network", AddressFamily.InterNetworkV6);
            var v6SubnetLen = root.UInt("IPv6SubnetLen");
            var v6Min = root.Address("IPv6SubnetMin", AddressFamily.InterNetworkV6);
            var v6Max = root.Address("IPv6SubnetMax", AddressFamily.InterNetworkV6);

            if (!conf.EnableIPv4 && !conf.EnableIPv6)
                throw new NetConfException($"{Src}: EnableIPv4 and EnableIPv6 are both false; enable at least one");

            if (conf.EnableIPv4)
            {
                var r = Validate("", network, subnetLen, subnetMin, subnetMax, 32, maxSubnetLen: 30, minNetworkPrefix: 28, defaultLen: 24);
                conf = conf with { Network = r.Network, SubnetLen = r.Len, SubnetMin = r.Min, SubnetMax = r.Max };
            }
            else if (network is { } n)
            {
                // Parsed but unused; kept so a later switch of EnableIPv4 sees the same Network.
                conf = conf with { Network = n };
            }

            if (conf.EnableIPv6)
            {
                var r = Validate("IPv6", v6Network, v6SubnetLen, v6Min, v6Max, 128, maxSubnetLen: 126, minNetworkPrefix: 124, defaultLen: 64);
                conf = conf with { IPv6Network = r.Network, IPv6SubnetLen = r.Len, IPv6SubnetMin = r.Min, IPv6SubnetMax = r.Max };
            }
            else if (v6Network is { } n6)
            {
                conf = conf with { IPv6Network = n6 };
            }
            return conf;
        }
    }

    private readonly record struct Ranges(IPNetwork Network, int Len, IPAddress Min, IPAddress Max);

    /// <summary>The shared IPv4/IPv6 rules; <paramref name="p"/> is the key prefix ("" or "IPv6").</summary>
    private static Ranges Validate(string p, IPNetwork? network, int? subnetLen, IPAddress? min, IPAddress? max,
        int bits, int maxSubnetLen, int minNetworkPrefix, int defaultLen)
    {
        var netKey = p + "Network";
        var lenKey = p + "SubnetLen";
        if (network is not { } net)
            throw new NetConfException($"{Src}: {netKey} is missing (required when Enable{(p == "" ? "IPv4" : "IPv6")} is true)");

        int len;
        // flannel treats SubnetLen 0 as "not set".
        if (subnetLen is { } given && given > 0)
        {
            if (given > maxSubnetLen)
                throw new NetConfException($"{Src}: {lenKey} {given} is larger than {maxSubnetLen}");
            if (given < net.PrefixLength + 2)
                throw new NetConfException(
                    $"{Src}: {lenKey} {given} is smaller than {net.PrefixLength + 2}: {netKey} {net} must hold at least four subnets");
            len = given;
        }
        else
        {
            if (net.PrefixLength > minNetworkPrefix)
                throw new NetConfException($"{Src}: {netKey} {net} is too small; the minimum useful prefix is /{minNetworkPrefix}");
            len = net.PrefixLength <= defaultLen - 2 ? defaultLen : net.PrefixLength + 2;
        }

        var minKey = p + "SubnetMin";
        var maxKey = p + "SubnetMax";
        IPAddress first, last;
        if (bits == 32)
        {
            var size = (uint)AddressMath.BlockSize4(len);
            var baseAddr = AddressMath.ToUInt32(net.BaseAddress);
            var end = baseAddr + (uint)(AddressMath.BlockSize4(net.PrefixLength) - 1); // last address of Network
            first = min ?? AddressMath.FromUInt32(baseAddr + size);
            last = max ?? AddressMath.FromUInt32(end - size + 1);
            CheckInside(minKey, first, net, netKey);
            CheckInside(maxKey, last, net, netKey);
            CheckAligned(minKey, first, AddressMath.ToUInt32(first) % size == 0, lenKey, len);
            CheckAligned(maxKey, last, AddressMath.ToUInt32(last) % size == 0, lenKey, len);
            if (AddressMath.ToUInt32(first) > AddressMath.ToUInt32(last))
                throw new NetConfException($"{Src}: {minKey} {first} is greater than {maxKey} {last}");
        }
        else
        {
            var size = AddressMath.BlockSize6(len);
            var baseAddr = AddressMath.ToUInt128(net.BaseAddress);
            var end = baseAddr + (AddressMath.BlockSize6(net.PrefixLength) - UInt128.One);
            first = min ?? AddressMath.FromUInt128(baseAddr + size);
            last = max ?? AddressMath.FromUInt128(end - size + UInt128.One);
            CheckInside(minKey, first, net, netKey);
            CheckInside(maxKey, last, net, netKey);
            CheckAligned(minKey, first, AddressMath.ToUInt128(first) % size == UInt128.Zero, lenKey, len);
            CheckAligned(maxKey, last, AddressMath.ToUInt128(last) % size == UInt128.Zero, lenKey, len);
            if (AddressMath.ToUInt128(first) > AddressMath.ToUInt128(last))
                throw new NetConfException($"{Src}: {minKey} {first} is greater than {maxKey} {last}");
        }
        return new Ranges(net, len, first, last);
    }

    private static void CheckInside(string key, IPAddress address, IPNetwork net, string netKey)
    {
        if (!net.Contains(address))
            throw new NetConfException($"{Src}: {key} {address} is not inside {netKey} {net}");
    }

    private static void CheckAligned(string key, IPAddress address, bool aligned, string lenKey, int len)
    {
        if (!aligned)
            throw new NetConfException($"{Src}: {key} {address} is not on a {lenKey} /{len} boundary");
    }

    private static BackendConfig ParseBackend(Fields root)
    {
        var element = root.Get("Backend");
        if (element is not { } be)
            return new UdpBackendConfig(); // flannel: no Backend means udp
        if (be.ValueKind != JsonValueKind.Object)
            throw new NetConfException($"{Src}: Backend {be.GetRawText()} is not an object");

        var f = new Fields(be, "Backend.");
        var raw = JsonSerializer.Serialize(be);
        var typeText = f.String("Type");
        if (string.IsNullOrEmpty(typeText))
            throw new NetConfException($"{Src}: Backend.Type is missing (unknown backend type \"\"; supported: {string.Join(", ", BackendConfig.SupportedTypes)})");
        var type = typeText.ToLowerInvariant();
        return type switch
        {
            BackendConfig.Udp => new UdpBackendConfig(f.Port("Port", allowZero: false) ?? UdpBackendConfig.DefaultPort) { RawJson = raw },
            BackendConfig.Vxlan => ParseVxlan(f) with { RawJson = raw },
            BackendConfig.HostGw => new HostGwBackendConfig { RawJson = raw },
            _ => throw new NetConfException(
                $"{Src}: Backend.Type \"{typeText}\" is an unknown backend type (supported: {string.Join(", ", BackendConfig.SupportedTypes)})"),
        };
    }

    private static VxlanBackendConfig ParseVxlan(Fields f)
    {
        var vni = f.UInt("VNI") ?? VxlanBackendConfig.DefaultVni;
        if (vni > 0xFFFFFF)
            throw new NetConfException($"{Src}: Backend.VNI {vni} is out of range 0..16777215");
        var mtu = f.UInt("MTU") ?? 0;
        if (mtu != 0 && (mtu < 68 || mtu > 65535))
            throw new NetConfException($"{Src}: Backend.MTU {mtu} is out of range 68..65535 (or 0 for auto)");
        return new VxlanBackendConfig(
            Vni: vni,
            Port: f.Port("Port", allowZero: true) ?? 0,
            Gbp: f.Bool("GBP") ?? false,
            Learning: f.Bool("Learning") ?? false,
            DirectRouting: f.Bool("DirectRouting") ?? false,
            Mtu: mtu);
    }

    /// <summary>Typed, case-insensitive access to one JSON object's members; errors name "prefix+key" and the value.</summary>
    private readonly struct Fields(JsonElement obj, string prefix)
    {
        public JsonElement? Get(string key)
        {
            JsonElement? found = null;
            foreach (var prop in obj.EnumerateObject())
            {
                if (string.Equals(prop.Name, key, StringComparison.OrdinalIgnoreCase))
                    found = prop.Value.ValueKind == JsonValueKind.Null ? null : prop.Value;
            }
            return found;
        }

        private NetConfException Error(string key, JsonElement value, string what) =>
            new($"{Src}: {prefix}{key} {value.GetRawText()} is not {what}");

        public string? String(string key)
        {
            if (Get(key) is not { } v) return null;
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(key, v, "a string");
        }

        public bool? Bool(string key)
        {
            if (Get(key) is not { } v) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(key, v, "true or false"),
            };
        }

        public int? UInt(string key)
        {
            if (Get(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i >= 0) return i;
            throw Error(key, v, "a non-negative integer");
        }

        public int? Port(string key, bool allowZero)
        {
            if (UInt(key) is not { } port) return null;
            if (port > 65535 || (port == 0 && !allowZero))
                throw new NetConfException($"{Src}: {prefix}{key} {port} is out of range {(allowZero ? 0 : 1)}..65535");
            return port;
        }

        public IPNetwork? Cidr(string key, AddressFamily family)
        {
            if (Get(key) is not { } v) return null;
            var what = family == AddressFamily.InterNetwork ? "an IPv4 CIDR" : "an IPv6 CIDR";
            if (v.ValueKind != JsonValueKind.String || !AddressMath.TryParseCidr(v.GetString()!, out var net)
                || net.BaseAddress.AddressFamily != family)
                throw Error(key, v, what);
            return net;
        }

        public IPAddress? Address(string key, AddressFamily family)
        {
            if (Get(key) is not { } v) return null;
            var what = family == AddressFamily.InterNetwork ? "an IPv4 address" : "an IPv6 address";
            if (v.ValueKind != JsonValueKind.String || !IPAddress.TryParse(v.GetString()!, out var addr)
                || addr.AddressFamily != family
                || (family == AddressFamily.InterNetwork && v.GetString()!.Count(c => c == '.') != 3))
                throw Error(key, v, what);
            // flannel treats 0.0.0.0 (the zero value) as "not set".
            if (family == AddressFamily.InterNetwork && AddressMath.ToUInt32(addr) == 0) return null;
            return addr;
        }
    }
}
