using System.Diagnostics;

namespace Flannel.Demo;

/// <summary>
/// Network namespaces through iproute2 (`ip netns`), the way an operator would: the one namespace helper of the demo,
/// the benches and the tests. The static members act on a namespace by name; an instance is a namespace owned by one
/// test, with a unique name, created by the constructor and deleted by Dispose (with every process still inside it that
/// was started through it), also when the test fails. Code that must run inside a namespace (sockets, netlink, TUN)
/// uses <see cref="NamespaceThread"/>.
/// </summary>
public sealed class Netns : IDisposable
{
    private static int _counter;
    private readonly List<Process> _processes = new();

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
            try { Process.GetProcessById(pid).Kill(); }
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
    public static string Sh(string ns, string commandLine, TimeSpan? timeout = null)
    {
        var r = TrySh(ns, commandLine, timeout);
        if (!r.Ok) throw new InvalidOperationException($"[{ns}] `{commandLine}` exited {r.ExitCode}: {r.Stderr.Trim()} {r.Stdout.Trim()}".TrimEnd());
        return r.Stdout;
    }

    /// <summary>Like <see cref="Sh"/>, but returns the exit code and output instead of throwing.</summary>
    public static ProcessRunner.Result TrySh(string ns, string commandLine, TimeSpan? timeout = null) =>
        Exec(ns, "sh", ["-c", commandLine], timeout);

    public string Name { get; }

    /// <summary>Creates a namespace of its own (loopback up); the name is unique across concurrent runs on the machine.</summary>
    public Netns(string prefix = "fl")
    {
        // Short enough for veth names built from it.
        Name = $"{prefix}{Environment.ProcessId % 100000}x{Interlocked.Increment(ref _counter)}";
        Add(Name);
        Exec("ip link set lo up");
    }

    /// <summary>Runs a command line inside this namespace and returns stdout; throws with stderr on a non-zero exit.</summary>
    public string Exec(string commandLine, TimeSpan? timeout = null) => Sh(Name, commandLine, timeout);

    /// <summary>Like <see cref="Exec(string, TimeSpan?)"/>, but returns the exit code and output instead of throwing.</summary>
    public ProcessRunner.Result TryExec(string commandLine, TimeSpan? timeout = null) => TrySh(Name, commandLine, timeout);

    /// <summary>Starts a long-running process inside this namespace; it is killed (by PID) on Dispose.</summary>
    public Process Start(string fileName, string arguments, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("ip", $"netns exec {Name} {fileName} {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        lock (_processes) _processes.Add(p);
        return p;
    }

    public void Dispose()
    {
        lock (_processes)
        {
            foreach (var p in _processes)
            {
                try { if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
                p.Dispose();
            }
            _processes.Clear();
        }
        ProcessRunner.Run("ip", ["netns", "delete", Name]);
    }
}
