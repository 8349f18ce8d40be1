using Flannel.Demo;
using System.Net;
using Flannel.Net.Masq;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Backends;

/// <summary>ip-masq rules applied inside a throwaway namespace and compared with what iptables-save / nft list print.</summary>
public sealed class MasqNetNsTests : IDisposable
{
    private static readonly IPNetwork N = IPNetwork.Parse("10.244.0.0/16");
    private static readonly IPNetwork P = IPNetwork.Parse("10.244.1.0/24");
    private readonly Netns _ns = new("mq");
    private readonly ProcessCommandRunner _runner;

    public MasqNetNsTests() => _runner = new ProcessCommandRunner(["ip", "netns", "exec", _ns.Name]);

    public void Dispose() => _ns.Dispose();

    /// <summary>The rule lines of iptables-save for one table, without comments and counters headers.</summary>
    private string[] SavedRules(string table) =>
        _ns.Exec($"iptables-save -t {table}").Split('\n').Where(l => l.StartsWith("-A ")).ToArray();

    [Fact]
    public void Iptables_rules_are_applied_exactly_checked_repaired_moved_and_removed()
    {
        // Someone else's rule in POSTROUTING must survive everything we do.
        _ns.Exec("iptables -t nat -A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE");
        IMasqManager masq = new IptablesMasq(new MasqOptions(), _runner);

        masq.Apply(N, P);
        Assert.Equal(
        [
            "-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE",
            "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
            .. MasqRules.Masquerade(N, P).Select(r => r.ToString()),
        ], SavedRules("nat"));
        Assert.Equal([MasqRules.ForwardJump.ToString(), .. MasqRules.Forward(N).Select(r => r.ToString())], SavedRules("filter"));
        Assert.Empty(masq.Missing(N, P));

        // Applying again changes nothing (no duplicate jumps).
        masq.Apply(N, P);
        Assert.Equal(8, SavedRules("nat").Length);

        // A rule deleted by hand is noticed and restored.
        _ns.Exec("iptables -t nat -D FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully");
        var missing = masq.Ensure(N, P);
        Assert.Equal(["missing in nat: -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully"], missing);
        Assert.Empty(masq.Missing(N, P));
        Assert.Empty(masq.Ensure(N, P));

        // A new lease/network replaces the previous network's rules.
        var n2 = IPNetwork.Parse("10.50.0.0/16");
        var p2 = IPNetwork.Parse("10.50.7.0/24");
        masq.Apply(n2, p2);
        var nat = SavedRules("nat");
        Assert.DoesNotContain(nat, l => l.Contains("10.244."));
        Assert.Contains("-A FLANNEL-POSTRTG -s 10.50.7.0/24 -d 10.50.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN", nat);
        Assert.DoesNotContain(SavedRules("filter"), l => l.Contains("10.244."));

        masq.Remove();
        Assert.Equal(["-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE"], SavedRules("nat"));
        Assert.Empty(SavedRules("filter"));
        Assert.DoesNotContain("FLANNEL", _ns.Exec("iptables-save"));
    }

    [Fact]
    public void Rules_of_an_older_flanneld_in_postrouting_are_removed()
    {
        _ns.Exec("iptables -t nat -A POSTROUTING -s 10.1.0.0/16 -d 10.1.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN");
        var masq = new IptablesMasq(new MasqOptions(Forward: false), _runner);
        masq.Apply(N, P);
        Assert.Equal([MasqRules.NatJump.ToString(), .. MasqRules.Masquerade(N, P).Select(r => r.ToString())], SavedRules("nat"));
        Assert.Empty(SavedRules("filter"));
    }

    [Fact]
    public void Nftables_rules_are_applied_checked_repaired_and_removed()
    {
        IMasqManager masq = new NftablesMasq(new MasqOptions(), _runner);
        masq.Apply(N, P);
        var listing = _ns.Exec("nft list table ip flannel-ipv4");
        Assert.Contains("type nat hook postrouting priority srcnat; policy accept;", listing);
        Assert.Equal(MasqRules.NftMasquerade(N, P), NftablesMasq.ParseChainRules(_ns.Exec("nft list chain ip flannel-ipv4 postrtg")));
        Assert.Equal(MasqRules.NftForward(N), NftablesMasq.ParseChainRules(_ns.Exec("nft list chain ip flannel-ipv4 forward")));
        Assert.Empty(masq.Missing(N, P));

        _ns.Exec("nft flush chain ip flannel-ipv4 forward");
        Assert.Equal(2, masq.Ensure(N, P).Count);
        Assert.Empty(masq.Missing(N, P));

        masq.Apply(IPNetwork.Parse("10.50.0.0/16"), IPNetwork.Parse("10.50.7.0/24"));
        Assert.DoesNotContain("10.244.", _ns.Exec("nft list table ip flannel-ipv4"));

        masq.Remove();
        Assert.NotEqual(0, _ns.TryExec("nft list table ip flannel-ipv4").ExitCode);
    }

    [Fact]
    public async Task The_periodic_check_restores_rules_deleted_by_hand_with_iptables_and_with_nftables()
    {
        // EnsureAsync is what the agent runs every --iptables-resync: the same outcome as Ensure, without a blocked thread.
        IMasqManager ipt = new IptablesMasq(new MasqOptions(), _runner);
        ipt.Apply(N, P);
        var nat = SavedRules("nat");
        _ns.Exec("iptables -t nat -D FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully");
        Assert.Equal(["missing in nat: -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully"],
            await ipt.EnsureAsync(N, P));
        Assert.Equal(nat, SavedRules("nat"));
        Assert.Empty(await ipt.EnsureAsync(N, P));

        IMasqManager nft = new NftablesMasq(new MasqOptions(), _runner);
        nft.Apply(N, P);
        _ns.Exec("nft flush chain ip flannel-ipv4 forward");
        Assert.Equal(2, (await nft.EnsureAsync(N, P)).Count);
        Assert.Equal(MasqRules.NftForward(N), NftablesMasq.ParseChainRules(_ns.Exec("nft list chain ip flannel-ipv4 forward")));
        Assert.Empty(await nft.EnsureAsync(N, P));
        nft.Remove();
        ipt.Remove();
    }
}
