using System.Diagnostics;

namespace Flannel.Net.Masq;

public sealed record CommandResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the iptables/nft binaries (their command line and restore formats are the stable interface).</summary>
public interface ICommandRunner
{
    CommandResult Run(string file, IReadOnlyList<string> args, string? stdin = null);
}

/// <summary>
/// Runs a program directly, or behind a prefix such as ["ip", "netns", "exec", "ns1"] (tests, tools working on a namespace).
/// </summary>
public sealed class ProcessCommandRunner(IReadOnlyList<string>? prefix = null, TimeSpan? timeout = null) : ICommandRunner
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(30);

    public CommandResult Run(string file, IReadOnlyList<string> args, string? stdin = null)
    {
        var all = (prefix ?? []).Concat([file]).Concat(args).ToList();
        var psi = new ProcessStartInfo(all[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in all.Skip(1)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {all[0]}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin != null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(_timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{string.Join(' ', all)}` did not finish within {_timeout.TotalSeconds:0} s");
        }
        p.WaitForExit();
        return new CommandResult(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}

public static class CommandRunnerExtensions
{
    /// <summary>Runs and throws <see cref="InvalidOperationException"/> with stderr when the exit code is not 0.</summary>
    public static string RunChecked(this ICommandRunner runner, string what, string file, IReadOnlyList<string> args, string? stdin = null)
    {
        var r = runner.Run(file, args, stdin);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"{what}: `{file} {string.Join(' ', args)}` exited {r.ExitCode}: {r.Stderr.Trim()}");
        return r.Stdout;
    }
}
