using Flannel.Net.Files;
using System.Globalization;
using System.Net;
using System.Text;

namespace Flannel.Net.SubnetEnv;

/// <summary>Reads and writes subnet.env in flannel's exact format: fixed key order, LF, written atomically, mode 0644.</summary>
public static class SubnetEnvFile
{
    public const string DefaultPath = "/run/flannel/subnet.env";

    public static string Format(SubnetEnv env)
    {
        var sb = new StringBuilder();
        sb.Append("FLANNEL_NETWORK=").Append(env.Network.ToString()).Append('\n');
        sb.Append("FLANNEL_SUBNET=").Append(env.SubnetText).Append('\n');
        if (env.Ipv6Network is { } v6 && env.Ipv6SubnetAddress is { } v6addr)
        {
            sb.Append("FLANNEL_IPV6_NETWORK=").Append(v6.ToString()).Append('\n');
            sb.Append("FLANNEL_IPV6_SUBNET=").Append(v6addr).Append('/').Append(env.Ipv6SubnetPrefix).Append('\n');
        }
        sb.Append("FLANNEL_MTU=").Append(env.Mtu.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("FLANNEL_IPMASQ=").Append(env.IpMasq ? "true" : "false").Append('\n');
        return sb.ToString();
    }

    /// <summary>Replaced atomically (<see cref="AtomicFile"/>), so readers (the CNI plugin) never see half a file; 0644 as flannel's.</summary>
    public static void Write(string path, SubnetEnv env) =>
        AtomicFile.Write(path, new UTF8Encoding(false).GetBytes(Format(env)),
            AtomicFile.OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

    /// <summary>Reads subnet.env; every missing or malformed key is reported by name (like flannel's CNI plugin).</summary>
    public static SubnetEnv Read(string path)
    {
        if (!File.Exists(path))
            throw new SubnetEnvException($"{path}: file not found (is flanneld running?)");
        return Parse(File.ReadAllText(path), path);
    }

    public static SubnetEnv Parse(string text, string source = "subnet.env")
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var eq = line.IndexOf('=');
            if (eq <= 0) throw new SubnetEnvException($"{source}: malformed line \"{line}\" (expected KEY=VALUE)");
            values[line[..eq]] = line[(eq + 1)..];
        }

        string Required(string key) =>
            values.TryGetValue(key, out var v) ? v : throw new SubnetEnvException($"{source}: {key} is missing");

        var network = ParseNetwork(Required("FLANNEL_NETWORK"), "FLANNEL_NETWORK", source);
        var (subnetAddr, subnetPrefix) = ParseAddressPrefix(Required("FLANNEL_SUBNET"), "FLANNEL_SUBNET", source);
        var mtuText = Required("FLANNEL_MTU");
        if (!int.TryParse(mtuText, NumberStyles.None, CultureInfo.InvariantCulture, out var mtu) || mtu <= 0)
            throw new SubnetEnvException($"{source}: FLANNEL_MTU \"{mtuText}\" is not a positive integer");
        var masqText = Required("FLANNEL_IPMASQ");
        if (!bool.TryParse(masqText, out var ipMasq))
            throw new SubnetEnvException($"{source}: FLANNEL_IPMASQ \"{masqText}\" is not true or false");

        IPNetwork? v6Net = null;
        IPAddress? v6Addr = null;
        var v6Prefix = 0;
        if (values.TryGetValue("FLANNEL_IPV6_NETWORK", out var v6n))
        {
            v6Net = ParseNetwork(v6n, "FLANNEL_IPV6_NETWORK", source);
            (v6Addr, v6Prefix) = ParseAddressPrefix(Required("FLANNEL_IPV6_SUBNET"), "FLANNEL_IPV6_SUBNET", source);
        }
        return new SubnetEnv(network, subnetAddr, subnetPrefix, mtu, ipMasq, v6Net, v6Addr, v6Prefix);
    }

    private static IPNetwork ParseNetwork(string text, string key, string source) =>
        IPNetwork.TryParse(text, out var n) ? n : throw new SubnetEnvException($"{source}: {key} \"{text}\" is not a CIDR");

    private static (IPAddress, int) ParseAddressPrefix(string text, string key, string source)
    {
        var slash = text.IndexOf('/');
        // IPAddress.TryParse also takes shorthand such as "10.244.1" (= 10.244.0.1); flannel never writes that.
        if (slash > 0 && IPAddress.TryParse(text[..slash], out var addr)
            && (addr.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || text[..slash].Count(c => c == '.') == 3)
            && int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
            && prefix <= (addr.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            return (addr, prefix);
        throw new SubnetEnvException($"{source}: {key} \"{text}\" is not ADDRESS/PREFIX");
    }
}

public sealed class SubnetEnvException(string message) : Exception(message);
