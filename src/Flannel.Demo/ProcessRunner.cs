using System.Diagnostics;
using System.Text;

namespace Flannel.Demo;

/// <summary>
/// Runs short commands (ip, ping, iperf3, redis-cli, kubectl, the CNI plugin) and collects their output: the one process
/// runner of the demo, the benches and the tests. Long-running processes start through <see cref="ClusterTopology.StartInNamespace"/>
/// or <see cref="Netns.Start"/>, which kill them on Dispose.
/// </summary>
public static class ProcessRunner
{
    /// <summary>The exit code of a <see cref="Result"/> whose command was killed at its timeout.</summary>
    public const int TimedOut = -1;

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public bool Ok => ExitCode == 0;
    }

    public static Result Run(string file, IEnumerable<string> args, TimeSpan? timeout = null, string? stdin = null,
        IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var stdinNote = stdin is null ? "" : WriteStdin(p, stdin);
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return new Result(TimedOut, stdout.ToString(), stderr + stdinNote + $"\n{file} timed out");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString(), stderr + stdinNote);
    }

    /// <summary>
    /// Writes and closes the child's stdin. A child may exit before reading it, say a client whose connect failed:
    /// that is an outcome its exit code and stderr report, not a failure of the caller, so the broken pipe becomes a
    /// note on the result's stderr instead of an exception that hides the child's own message.
    /// </summary>
    private static string WriteStdin(Process p, string stdin)
    {
        try
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
            return "";
        }
        catch (IOException e)
        {
            // Not the writer: closing it would flush into the broken pipe again.
            p.StandardInput.BaseStream.Dispose();
            return $"\n(stdin not fully written: {e.Message}; the program exited before reading it)";
        }
    }

    /// <summary>Runs a command and throws with its stderr when it fails.</summary>
    public static string Check(string file, params string[] args)
    {
        var r = Run(file, args);
        if (!r.Ok) throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` exited {r.ExitCode}: {r.Stderr.Trim()} {r.Stdout.Trim()}".Trim());
        return r.Stdout;
    }
}
