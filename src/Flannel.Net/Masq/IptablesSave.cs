namespace Flannel.Net.Masq;

/// <summary>The rules of an iptables-save dump, per table: chain declarations and "-A" lines in order.</summary>
public sealed class IptablesSave
{
    private readonly Dictionary<string, List<string>> _rules = new();
    private readonly Dictionary<string, HashSet<string>> _chains = new();

    public static IptablesSave Parse(string text)
    {
        var save = new IptablesSave();
        string? table = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith('*')) table = line[1..];
            else if (table is null || line.StartsWith('#') || line == "COMMIT" || line.Length == 0) continue;
            else if (line.StartsWith(':')) save.Chains(table).Add(line[1..].Split(' ')[0]);
            else if (line.StartsWith("-A ")) save.Rules(table).Add(line);
        }
        return save;
    }

    public List<string> Rules(string table) => _rules.TryGetValue(table, out var l) ? l : _rules[table] = new List<string>();

    public HashSet<string> Chains(string table) => _chains.TryGetValue(table, out var s) ? s : _chains[table] = new HashSet<string>();

    /// <summary>The "-A" lines of one chain, in order.</summary>
    public IReadOnlyList<string> ChainRules(string table, string chain) =>
        Rules(table).Where(l => l.StartsWith($"-A {chain} ", StringComparison.Ordinal)).ToList();
}
