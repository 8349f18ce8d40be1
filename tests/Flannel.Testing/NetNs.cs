using System.Diagnostics;
using System.Text;

namespace Flannel.Testing;

/// <summary>
/// A network namespace owned by one test: unique name, created on construction, deleted (with every process
/// still inside it that the test started) on Dispose, also when the test fails.
/// </summary>
public sealed class NetNs : IDisposable
{
    private static int _counter;
    private readonly List<Process> _processes = new();

    public string Name { get; }

    public NetNs(string prefix = "fl")
    {
        // Names must be unique across concurrent test runs on the same machine and short enough for veth names built from them.
        Name = $"{prefix}{Environment.ProcessId % 100000}x{Interlocked.Increment(ref _counter)}";
        Shell.Run("ip", $"netns add {Name}");
        Exec("ip link set lo up");
    }

    /// <summary>Runs a command inside the namespace and returns stdout; throws with stderr on a non-zero exit.</summary>
    public string Exec(string commandLine, int timeoutMs = 60_000) =>
        Shell.Run("ip", $"netns exec {Name} {commandLine}", timeoutMs);

    /// <summary>Like <see cref="Exec"/>, but returns the exit code and output instead of throwing.</summary>
    public (int ExitCode, string Stdout, string Stderr) TryExec(string commandLine, int timeoutMs = 60_000) =>
        Shell.TryRun("ip", $"netns exec {Name} {commandLine}", timeoutMs);

    /// <summary>Starts a long-running process inside the namespace; it is killed (by PID) on Dispose.</summary>
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
        Shell.TryRun("ip", $"netns delete {Name}");
    }
}

public static class Shell
{
    public static string Run(string file, string args, int timeoutMs = 60_000)
    {
        var (code, stdout, stderr) = TryRun(file, args, timeoutMs);
        if (code != 0) throw new InvalidOperationException($"`{file} {args}` exited {code}: {stderr.Trim()} {stdout.Trim()}");
        return stdout;
    }

    public static (int ExitCode, string Stdout, string Stderr) TryRun(string file, string args, int timeoutMs = 60_000)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{file} {args}` did not finish within {timeoutMs} ms");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
