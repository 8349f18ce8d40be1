using System.Net;
using System.Text;

namespace Flannel.Net.Masq;

/// <summary>
/// flannel's rules in nftables (table ip flannel-ipv4, chains postrtg and forward, like flannel's nftables mode), applied
/// with one `nft -f` transaction that flushes and refills the chains, so a previous network's rules vanish.
/// </summary>
public sealed class NftablesMasq(MasqOptions options, ICommandRunner? runner = null) : IMasqManager
{
    public const string Table = "flannel-ipv4";
    public const string PostroutingChain = "postrtg";
    public const string ForwardChain = "forward";

    private readonly ICommandRunner _runner = runner ?? new ProcessCommandRunner();

    public MasqOptions Options { get; } = options;

    public void Apply(IPNetwork network, IPNetwork lease) =>
        _runner.RunChecked("ip-masq: apply nftables rules", "nft", ["-f", "-"], BuildScript(Options, network, lease, ExistingChains()));

    public IReadOnlyList<string> Missing(IPNetwork network, IPNetwork lease)
    {
        var diff = new List<string>();
        if (Options.Masquerade)
            Compare(diff, PostroutingChain, MasqRules.NftMasquerade(network, lease, Options.RandomFully), ListChain(PostroutingChain));
        if (Options.Forward)
            Compare(diff, ForwardChain, MasqRules.NftForward(network), ListChain(ForwardChain));
        return diff;
    }

    public async Task<IReadOnlyList<string>> EnsureAsync(IPNetwork network, IPNetwork lease)
    {
        var diff = new List<string>();
        if (Options.Masquerade)
            Compare(diff, PostroutingChain, MasqRules.NftMasquerade(network, lease, Options.RandomFully),
                await _runner.RunAsync("nft", ListChainArgs(PostroutingChain)).ConfigureAwait(false));
        if (Options.Forward)
            Compare(diff, ForwardChain, MasqRules.NftForward(network), await _runner.RunAsync("nft", ListChainArgs(ForwardChain)).ConfigureAwait(false));
        if (diff.Count > 0)
        {
            var chains = ChainsOf(await _runner.RunAsync("nft", ["list", "table", "ip", Table]).ConfigureAwait(false));
            await _runner.RunCheckedAsync("ip-masq: apply nftables rules", "nft", ["-f", "-"], BuildScript(Options, network, lease, chains))
                .ConfigureAwait(false);
        }
        return diff;
    }

    public IReadOnlyList<string> Ensure(IPNetwork network, IPNetwork lease)
    {
        var missing = Missing(network, lease);
        if (missing.Count > 0) Apply(network, lease);
        return missing;
    }

    public void Remove()
    {
        if (_runner.Run("nft", ["list", "table", "ip", Table]).ExitCode == 0)
            _runner.RunChecked("ip-masq: remove nftables rules", "nft", ["delete", "table", "ip", Table]);
    }

    private static string[] ListChainArgs(string chain) => ["list", "chain", "ip", Table, chain];

    private CommandResult ListChain(string chain) => _runner.Run("nft", ListChainArgs(chain));

    private static void Compare(List<string> diff, string chain, IReadOnlyList<string> desired, CommandResult listed)
    {
        var actual = listed.ExitCode == 0 ? ParseChainRules(listed.Stdout) : [];
        var before = diff.Count;
        foreach (var d in desired.Where(d => !actual.Contains(d))) diff.Add($"missing in {Table} {chain}: {d}");
        foreach (var a in actual.Where(a => !desired.Contains(a))) diff.Add($"extra in {Table} {chain}: {a}");
        if (diff.Count == before && !actual.SequenceEqual(desired)) diff.Add($"rules of {chain} out of order");
    }

    private HashSet<string> ExistingChains() => ChainsOf(_runner.Run("nft", ["list", "table", "ip", Table]));

    private static HashSet<string> ChainsOf(CommandResult listed)
    {
        if (listed.ExitCode != 0) return [];
        return listed.Stdout.Split('\n').Select(l => l.Trim())
            .Where(l => l.StartsWith("chain ", StringComparison.Ordinal))
            .Select(l => l["chain ".Length..].TrimEnd('{', ' ')).ToHashSet();
    }

    /// <summary>The rule lines of an `nft list chain` output (without the chain's type/hook line and braces).</summary>
    public static IReadOnlyList<string> ParseChainRules(string listing) =>
        listing.Split('\n').Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith("table ", StringComparison.Ordinal) && !l.StartsWith("chain ", StringComparison.Ordinal) &&
                        !l.StartsWith("type ", StringComparison.Ordinal) && l != "}" && !l.StartsWith('#'))
            .ToList();

    /// <summary>The `nft -f` input (pure, for golden tests). Disabled parts are deleted when present.</summary>
    public static string BuildScript(MasqOptions options, IPNetwork network, IPNetwork lease, IReadOnlySet<string> existingChains)
    {
        var sb = new StringBuilder();
        sb.Append($"add table ip {Table}\n");
        Chain(sb, PostroutingChain, "type nat hook postrouting priority srcnat ;",
            options.Masquerade ? MasqRules.NftMasquerade(network, lease, options.RandomFully) : null, existingChains);
        Chain(sb, ForwardChain, "type filter hook forward priority filter ;",
            options.Forward ? MasqRules.NftForward(network) : null, existingChains);
        return sb.ToString();
    }

    private static void Chain(StringBuilder sb, string chain, string hook, IReadOnlyList<string>? rules, IReadOnlySet<string> existing)
    {
        if (rules is null)
        {
            if (existing.Contains(chain)) sb.Append($"flush chain ip {Table} {chain}\ndelete chain ip {Table} {chain}\n");
            return;
        }
        sb.Append($"add chain ip {Table} {chain} {{ {hook} }}\n");
        sb.Append($"flush chain ip {Table} {chain}\n");
        foreach (var r in rules) sb.Append($"add rule ip {Table} {chain} {r}\n");
    }
}
