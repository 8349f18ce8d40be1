using System.Net;
using System.Text;

namespace Flannel.Net.Masq;

/// <summary>
/// flannel's rules through iptables-restore --noflush: one transaction per apply. Declaring our chain flushes it, so the
/// chain is rewritten whole (old network's rules vanish); the jump is added only when absent (duplicates and rules an older
/// flanneld put straight into POSTROUTING/FORWARD with our comment are deleted).
/// </summary>
public sealed class IptablesMasq(MasqOptions options, ICommandRunner? runner = null) : IMasqManager
{
    private readonly ICommandRunner _runner = runner ?? new ProcessCommandRunner();

    public MasqOptions Options { get; } = options;

    public void Apply(IPNetwork network, IPNetwork lease)
    {
        var script = BuildRestoreScript(Options, network, lease, Save());
        _runner.RunChecked("ip-masq: apply rules", "iptables-restore", ["-w", "--noflush"], script);
    }

    public IReadOnlyList<string> Missing(IPNetwork network, IPNetwork lease) => Differences(Options, network, lease, Save());

    public IReadOnlyList<string> Ensure(IPNetwork network, IPNetwork lease)
    {
        var missing = Missing(network, lease);
        if (missing.Count > 0) Apply(network, lease);
        return missing;
    }

    public async Task<IReadOnlyList<string>> EnsureAsync(IPNetwork network, IPNetwork lease)
    {
        var missing = Differences(Options, network, lease, await SaveAsync().ConfigureAwait(false));
        if (missing.Count > 0)
        {
            var script = BuildRestoreScript(Options, network, lease, await SaveAsync().ConfigureAwait(false));
            await _runner.RunCheckedAsync("ip-masq: apply rules", "iptables-restore", ["-w", "--noflush"], script).ConfigureAwait(false);
        }
        return missing;
    }

    public void Remove()
    {
        var script = BuildRestoreScript(Options with { Masquerade = false, Forward = false }, null, null, Save());
        _runner.RunChecked("ip-masq: remove rules", "iptables-restore", ["-w", "--noflush"], script);
    }

    private IptablesSave Save() => IptablesSave.Parse(_runner.RunChecked("ip-masq: read rules", "iptables-save", []));

    private async Task<IptablesSave> SaveAsync() =>
        IptablesSave.Parse(await _runner.RunCheckedAsync("ip-masq: read rules", "iptables-save", []).ConfigureAwait(false));

    /// <summary>The iptables-restore input that makes the tables match (pure, for golden tests).</summary>
    public static string BuildRestoreScript(MasqOptions options, IPNetwork? network, IPNetwork? lease, IptablesSave current)
    {
        var sb = new StringBuilder();
        var nat = options.Masquerade && network is { } n1 && lease is { } l1 ? MasqRules.Masquerade(n1, l1, options.RandomFully) : null;
        var fwd = options.Forward && network is { } n2 ? MasqRules.Forward(n2) : null;
        Table(sb, current, MasqRules.NatTable, MasqRules.PostroutingChain, MasqRules.NatJump, "\"flanneld masq\"", nat);
        Table(sb, current, MasqRules.FilterTable, MasqRules.ForwardChain, MasqRules.ForwardJump, "\"flanneld forward\"", fwd);
        return sb.ToString();
    }

    private static void Table(StringBuilder sb, IptablesSave current, string table, string chain, IptablesRule jump, string comment,
        IReadOnlyList<IptablesRule>? rules)
    {
        var jumpLine = jump.ToString();
        var parentRules = current.ChainRules(table, jump.Chain);
        var chainExists = current.Chains(table).Contains(chain);
        var ours = parentRules.Where(l => l.Contains(comment, StringComparison.Ordinal)).ToList();
        if (rules is null && ours.Count == 0 && !chainExists) return; // nothing to install, nothing to remove

        sb.Append('*').Append(table).Append('\n');
        sb.Append(':').Append(chain).Append(" - [0:0]\n");
        var keptJump = false;
        foreach (var line in ours)
        {
            if (rules is not null && line == jumpLine && !keptJump)
            {
                keptJump = true;
                continue;
            }
            sb.Append("-D").Append(line.AsSpan(2)).Append('\n');
        }
        if (rules is null)
        {
            sb.Append("-X ").Append(chain).Append('\n');
        }
        else
        {
            if (!keptJump) sb.Append(jumpLine).Append('\n');
            foreach (var r in rules) sb.Append(r).Append('\n');
        }
        sb.Append("COMMIT\n");
    }

    /// <summary>What differs between the desired rules and an iptables-save dump (pure).</summary>
    public static IReadOnlyList<string> Differences(MasqOptions options, IPNetwork network, IPNetwork lease, IptablesSave current)
    {
        var diff = new List<string>();
        if (options.Masquerade)
            Compare(diff, current, MasqRules.NatJump, MasqRules.Masquerade(network, lease, options.RandomFully), "\"flanneld masq\"");
        if (options.Forward)
            Compare(diff, current, MasqRules.ForwardJump, MasqRules.Forward(network), "\"flanneld forward\"");
        return diff;
    }

    private static void Compare(List<string> diff, IptablesSave current, IptablesRule jump, IReadOnlyList<IptablesRule> rules, string comment)
    {
        var before = diff.Count;
        var parent = current.ChainRules(jump.Table, jump.Chain).Where(l => l.Contains(comment, StringComparison.Ordinal)).ToList();
        if (!parent.Contains(jump.ToString())) diff.Add($"missing in {jump.Table}: {jump}");
        foreach (var extra in parent.Where(l => l != jump.ToString()).Concat(parent.Where(l => l == jump.ToString()).Skip(1)))
            diff.Add($"extra in {jump.Table}: {extra}");
        var chain = rules[0].Chain;
        var actual = current.ChainRules(jump.Table, chain);
        var desired = rules.Select(r => r.ToString()).ToList();
        foreach (var d in desired.Where(d => !actual.Contains(d))) diff.Add($"missing in {jump.Table}: {d}");
        foreach (var a in actual.Where(a => !desired.Contains(a))) diff.Add($"extra in {jump.Table}: {a}");
        if (diff.Count == before && !actual.SequenceEqual(desired)) diff.Add($"rules of {chain} out of order");
    }
}
