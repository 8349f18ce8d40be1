using System.Collections;

namespace Flannel.Cni;

/// <summary>
/// The CNI_* variables a runtime sets, plus the whole environment, which is handed to the delegate plugin unchanged
/// except for CNI_COMMAND.
/// </summary>
public sealed record CniEnvironment(IReadOnlyDictionary<string, string> Variables)
{
    public const string CommandVariable = "CNI_COMMAND";

    public string? Command => Get(CommandVariable);
    public string? ContainerId => Get("CNI_CONTAINERID");
    public string? Netns => Get("CNI_NETNS");
    public string? IfName => Get("CNI_IFNAME");
    public string? Args => Get("CNI_ARGS");
    public string? Path => Get("CNI_PATH");

    /// <summary>CNI_PATH split into directories, in search order.</summary>
    public IReadOnlyList<string> SearchPath =>
        (Path ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public string? Get(string name) => Variables.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

    public static CniEnvironment FromProcess() => From(Environment.GetEnvironmentVariables());

    public static CniEnvironment From(IDictionary env)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in env)
            if (e.Key is string k && e.Value is string v) d[k] = v;
        return new CniEnvironment(d);
    }
}
