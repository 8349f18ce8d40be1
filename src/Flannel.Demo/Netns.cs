namespace Flannel.Demo;

/// <summary>Network namespaces through iproute2 (`ip netns`), the way an operator would.</summary>
public static class Netns
{
    public static void Add(string name) => ProcessRunner.Check("ip", "netns", "add", name);

    public static IReadOnlyList<string> List() =>
        ProcessRunner.Run("ip", ["netns", "list"]).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[0])
            .ToList();

    /// <summary>Deletes a namespace after killing the processes still inside it (all of them were started by us).</summary>
    public static void Delete(string name)
    {
        foreach (var pid in Pids(name))
        {
            try { System.Diagnostics.Process.GetProcessById(pid).Kill(); }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
        }
        ProcessRunner.Run("ip", ["netns", "delete", name]);
    }

    public static IReadOnlyList<int> Pids(string name) =>
        ProcessRunner.Run("ip", ["netns", "pids", name]).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s.Trim(), out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .ToList();

    /// <summary>`ip netns exec <paramref name="ns"/> file args...`</summary>
    public static ProcessRunner.Result Exec(string ns, string file, IEnumerable<string> args, TimeSpan? timeout = null,
        string? stdin = null, IDictionary<string, string>? env = null) =>
        ProcessRunner.Run("ip", new[] { "netns", "exec", ns, file }.Concat(args), timeout, stdin, env);

    /// <summary>Runs an iproute2/shell command line inside the namespace and throws when it fails.</summary>
    public static string Sh(string ns, string commandLine)
    {
        var r = Exec(ns, "sh", ["-c", commandLine]);
        if (!r.Ok) throw new InvalidOperationException($"[{ns}] `{commandLine}` exited {r.ExitCode}: {r.Stderr.Trim()}");
        return r.Stdout;
    }
}
