using System.Net;

namespace Flannel.Net.Masq;

/// <summary>One iptables rule: table, chain and the rule specification exactly as iptables-save prints it.</summary>
public sealed record IptablesRule(string Table, string Chain, string Spec)
{
    /// <summary>"-A CHAIN spec", the form iptables-save prints and iptables-restore reads.</summary>
    public override string ToString() => $"-A {Chain} {Spec}";
}

/// <summary>
/// flannel's ip-masq and forward rules (HEAD), generated from the flannel network N and our own lease P. The text is
/// byte-for-byte what iptables-save prints for them, so presence is checked by comparing lines.
/// </summary>
public static class MasqRules
{
    public const string NatTable = "nat";
    public const string FilterTable = "filter";
    public const string PostroutingChain = "FLANNEL-POSTRTG";
    public const string ForwardChain = "FLANNEL-FWD";
    public const string MasqComment = "-m comment --comment \"flanneld masq\"";
    public const string ForwardComment = "-m comment --comment \"flanneld forward\"";

    /// <summary>kube-proxy's masquerade mark: traffic it marked is not NATed twice.</summary>
    public const string KubeProxyMark = "0x4000/0x4000";

    /// <summary>The jump from nat POSTROUTING into our chain.</summary>
    public static IptablesRule NatJump { get; } = new(NatTable, "POSTROUTING", $"{MasqComment} -j {PostroutingChain}");

    /// <summary>The jump from filter FORWARD into our chain.</summary>
    public static IptablesRule ForwardJump { get; } = new(FilterTable, "FORWARD", $"{ForwardComment} -j {ForwardChain}");

    /// <summary>The rules of FLANNEL-POSTRTG, in order.</summary>
    public static IReadOnlyList<IptablesRule> Masquerade(IPNetwork network, IPNetwork lease, bool randomFully = true)
    {
        string n = network.ToString(), p = lease.ToString();
        var masq = randomFully ? "MASQUERADE --random-fully" : "MASQUERADE";
        IptablesRule R(string spec) => new(NatTable, PostroutingChain, spec);
        return
        [
            R($"-m mark --mark {KubeProxyMark} {MasqComment} -j RETURN"),
            R($"-s {p} -d {n} {MasqComment} -j RETURN"),
            R($"-s {n} -d {p} {MasqComment} -j RETURN"),
            R($"! -s {n} -d {p} {MasqComment} -j RETURN"),
            R($"-s {n} ! -d 224.0.0.0/4 {MasqComment} -j {masq}"),
            R($"! -s {n} -d {n} {MasqComment} -j {masq}"),
        ];
    }

    /// <summary>The rules of FLANNEL-FWD, in order.</summary>
    public static IReadOnlyList<IptablesRule> Forward(IPNetwork network) =>
    [
        new(FilterTable, ForwardChain, $"-s {network} {ForwardComment} -j ACCEPT"),
        new(FilterTable, ForwardChain, $"-d {network} {ForwardComment} -j ACCEPT"),
    ];

    /// <summary>
    /// nftables equivalent (flannel's table flannel-ipv4, chains postrtg and forward), as `nft -f` input that flushes and
    /// refills the chains in one transaction. Rules are in nft's canonical listing form.
    /// </summary>
    public static IReadOnlyList<string> NftMasquerade(IPNetwork network, IPNetwork lease, bool randomFully = true)
    {
        string n = network.ToString(), p = lease.ToString();
        var masq = randomFully ? "masquerade fully-random" : "masquerade";
        return
        [
            "meta mark & 0x00004000 == 0x00004000 return",
            $"ip saddr {p} ip daddr {n} return",
            $"ip saddr {n} ip daddr {p} return",
            // Same meaning as the iptables rule (! -s N -d P). flannel's nft code writes "saddr != P daddr N" here, which
            // would exempt host-to-pod traffic from the last rule's masquerade; we keep the iptables semantics.
            $"ip saddr != {n} ip daddr {p} return",
            $"ip saddr {n} ip daddr != 224.0.0.0/4 {masq}",
            $"ip saddr != {n} ip daddr {n} {masq}",
        ];
    }

    public static IReadOnlyList<string> NftForward(IPNetwork network) =>
    [
        $"ip saddr {network} accept",
        $"ip daddr {network} accept",
    ];
}
