using System.Net;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Net.Config;

namespace Flannel.Actors.Tests.Leases;

/// <summary>Tables, claims and views for the pure authorization tests (no actor system).</summary>
internal static class AuthorizerFixtures
{
    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly NetConf Conf = NetConf.Parse("""{"Network":"10.244.0.0/16"}""");

    public const string A = "akka.tcp://flannel@198.18.0.1:4053";
    public const string B = "akka.tcp://flannel@198.18.0.2:4053";
    public const string C = "akka.tcp://flannel@198.18.0.3:4053";

    public static IPNetwork Cidr(string s) => IPNetwork.Parse(s);

    public static LeaseClaim Claim(string node, IPNetwork? required = null, NetConf? conf = null, IPNetwork? previous = null) =>
        new(node, IPAddress.Parse("192.0.2.1"), "vxlan", null, previous, required, conf ?? Conf, TimeSpan.FromHours(24));

    public static Lease L(string subnet, string node, string? owner, DateTimeOffset? expiration = null, long version = 1) =>
        new(Cidr(subnet), node, IPAddress.Parse("192.0.2.9"), "vxlan", null, expiration ?? Now + TimeSpan.FromHours(1), version, owner);

    public static AllocatorView View(IEnumerable<Lease> leases, IEnumerable<string>? live = null, INodeCidrAuthority? cidrs = null,
        int maxLeases = 5000, NetConf? accepted = null) =>
        new(leases.ToDictionary(l => l.Subnet), (live ?? [A, B, C]).ToHashSet(), cidrs, accepted ?? Conf, maxLeases, Now);

    /// <summary>A synced Kubernetes node list: name -> podCIDR (null = none assigned yet).</summary>
    public static KubeNodeCidrAuthority Kube(params (string Name, string? PodCidr)[] nodes)
    {
        var authority = new KubeNodeCidrAuthority();
        authority.Replace(nodes.Select(n => KubeNode(n.Name, n.PodCidr)));
        return authority;
    }

    public static KubeNodeInfo KubeNode(string name, string? podCidr) =>
        new(name, podCidr is null ? null : Cidr(podCidr), new Dictionary<string, string>(), null);
}
