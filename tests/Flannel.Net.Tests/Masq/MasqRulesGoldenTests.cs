using System.Net;
using Flannel.Net.Masq;
using Xunit;

namespace Flannel.Net.Tests.Masq;

/// <summary>The generated rules against flannel's (HEAD) exact rule text for Network 10.244.0.0/16, lease 10.244.1.0/24.</summary>
public class MasqRulesGoldenTests
{
    private static readonly IPNetwork N = IPNetwork.Parse("10.244.0.0/16");
    private static readonly IPNetwork P = IPNetwork.Parse("10.244.1.0/24");

    private const string GoldenNat =
        """
        -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
        -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
        -A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN
        -A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN
        -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN
        -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
        -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
        """;

    private const string GoldenFilter =
        """
        -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
        -A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
        -A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
        """;

    private static string Lines(IEnumerable<IptablesRule> rules) => string.Join("\n", rules.Select(r => r.ToString()));

    [Fact]
    public void Nat_rules_match_flannels_text()
    {
        Assert.Equal(GoldenNat, Lines([MasqRules.NatJump, .. MasqRules.Masquerade(N, P)]));
    }

    [Fact]
    public void Forward_rules_match_flannels_text()
    {
        Assert.Equal(GoldenFilter, Lines([MasqRules.ForwardJump, .. MasqRules.Forward(N)]));
    }

    [Fact]
    public void Random_fully_can_be_disabled()
    {
        var rules = MasqRules.Masquerade(N, P, randomFully: false);
        Assert.Equal("-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment \"flanneld masq\" -j MASQUERADE",
            rules[^1].ToString());
        Assert.DoesNotContain(rules, r => r.Spec.Contains("random-fully"));
    }

    [Fact]
    public void Restore_script_on_empty_tables_declares_chains_and_adds_everything()
    {
        var script = IptablesMasq.BuildRestoreScript(new MasqOptions(), N, P, IptablesSave.Parse(""));
        Assert.Equal("*nat\n:FLANNEL-POSTRTG - [0:0]\n" + GoldenNat + "\nCOMMIT\n*filter\n:FLANNEL-FWD - [0:0]\n" + GoldenFilter + "\nCOMMIT\n",
            script.Replace("\r", ""));
    }

    [Fact]
    public void Restore_script_keeps_one_jump_and_deletes_an_old_flanneld_rule()
    {
        var save = IptablesSave.Parse(
            """
            *nat
            :POSTROUTING ACCEPT [0:0]
            :FLANNEL-POSTRTG - [0:0]
            -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
            -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
            -A POSTROUTING -s 10.1.0.0/16 -d 10.1.0.0/16 -m comment --comment "flanneld masq" -j RETURN
            -A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE
            -A FLANNEL-POSTRTG -s 10.1.5.0/24 -d 10.1.0.0/16 -m comment --comment "flanneld masq" -j RETURN
            COMMIT
            """);
        var script = IptablesMasq.BuildRestoreScript(new MasqOptions(Forward: false), N, P, save);
        var expected = "*nat\n:FLANNEL-POSTRTG - [0:0]\n" +
                       "-D POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n" +
                       "-D POSTROUTING -s 10.1.0.0/16 -d 10.1.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN\n" +
                       string.Join("\n", GoldenNat.Split('\n').Skip(1)) + "\nCOMMIT\n";
        Assert.Equal(expected, script);
    }

    [Fact]
    public void Disabled_parts_are_removed_when_present_and_left_alone_otherwise()
    {
        var save = IptablesSave.Parse("*filter\n:FORWARD ACCEPT [0:0]\n:FLANNEL-FWD - [0:0]\n" + GoldenFilter + "\nCOMMIT\n");
        var script = IptablesMasq.BuildRestoreScript(new MasqOptions(Masquerade: false, Forward: false), N, P, save);
        Assert.Equal("*filter\n:FLANNEL-FWD - [0:0]\n-D FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD\n-X FLANNEL-FWD\nCOMMIT\n", script);
        Assert.Equal("", IptablesMasq.BuildRestoreScript(new MasqOptions(false, false), N, P, IptablesSave.Parse("")));
    }

    [Fact]
    public void Differences_name_missing_and_extra_rules()
    {
        var all = IptablesSave.Parse("*nat\n" + GoldenNat + "\nCOMMIT\n*filter\n" + GoldenFilter + "\nCOMMIT\n");
        Assert.Empty(IptablesMasq.Differences(new MasqOptions(), N, P, all));

        var otherLease = IptablesMasq.Differences(new MasqOptions(Forward: false), N, IPNetwork.Parse("10.244.2.0/24"), all);
        Assert.Contains("missing in nat: -A FLANNEL-POSTRTG -s 10.244.2.0/24 -d 10.244.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN", otherLease);
        Assert.Contains("extra in nat: -A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN", otherLease);

        var none = IptablesMasq.Differences(new MasqOptions(), N, P, IptablesSave.Parse(""));
        Assert.Equal(10, none.Count);
    }

    [Fact]
    public void Nftables_script_flushes_and_refills_both_chains()
    {
        var script = NftablesMasq.BuildScript(new MasqOptions(), N, P, new HashSet<string>());
        Assert.Equal(
            """
            add table ip flannel-ipv4
            add chain ip flannel-ipv4 postrtg { type nat hook postrouting priority srcnat ; }
            flush chain ip flannel-ipv4 postrtg
            add rule ip flannel-ipv4 postrtg meta mark & 0x00004000 == 0x00004000 return
            add rule ip flannel-ipv4 postrtg ip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 return
            add rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 return
            add rule ip flannel-ipv4 postrtg ip saddr != 10.244.0.0/16 ip daddr 10.244.1.0/24 return
            add rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random
            add rule ip flannel-ipv4 postrtg ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random
            add chain ip flannel-ipv4 forward { type filter hook forward priority filter ; }
            flush chain ip flannel-ipv4 forward
            add rule ip flannel-ipv4 forward ip saddr 10.244.0.0/16 accept
            add rule ip flannel-ipv4 forward ip daddr 10.244.0.0/16 accept

            """, script);
        var noForward = NftablesMasq.BuildScript(new MasqOptions(Forward: false), N, P, new HashSet<string> { "forward" });
        Assert.EndsWith("flush chain ip flannel-ipv4 forward\ndelete chain ip flannel-ipv4 forward\n", noForward);
    }

    [Fact]
    public void Nft_listing_is_parsed_into_rule_lines()
    {
        const string listing = "table ip flannel-ipv4 {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n" +
                               "\t\tip saddr 10.244.0.0/16 accept\n\t\tip daddr 10.244.0.0/16 accept\n\t}\n}\n";
        Assert.Equal(MasqRules.NftForward(N), NftablesMasq.ParseChainRules(listing));
    }
}
