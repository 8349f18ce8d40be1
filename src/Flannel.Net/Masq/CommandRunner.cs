using System.Diagnostics;

namespace Flannel.Net.Masq;

public sealed record CommandResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the iptables/nft binaries (their command line and restore formats are the stable interface).</summary>
public interface ICommandRunner
{
    CommandResult Run(string file, IReadOnlyList<string> args, string? stdin = null);

    /// <summary>
    /// The same without holding a thread while the program runs: the periodic rule check (every --iptables-resync) ran
    /// on a thread-pool worker that waited for iptables-save, and the pool added a third worker for it (issue 12). Test
    /// fakes answer with <see cref="Run"/>.
    /// </summary>
    Task<CommandResult> RunAsync(string file, IReadOnlyList<string> args, string? stdin = null) => Task.FromResult(Run(file, args, stdin));
}

/// <summary>
/// Runs a program directly, or behind a prefix such as ["ip", "netns", "exec", "ns1"] (tests, tools working on a namespace).
/// </summary>
public sealed class ProcessCommandRunner(IReadOnlyList<string>? prefix = null, TimeSpan? timeout = null) : ICommandRunner
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(30);

    public CommandResult Run(string file, IReadOnlyList<string> args, string? stdin = null)
    {
        var (all, psi) = Prepare(file, args);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {all[0]}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        string? unread = null;
        try
        {
            if (stdin != null) p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        catch (IOException e)
        {
            unread = Unread(p, e);
        }
        if (!p.WaitForExit(_timeout))
        {
            p.Kill(entireProcessTree: true);
            throw Timeout(all);
        }
        p.WaitForExit();
        return Result(all, p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult(), unread);
    }

    public async Task<CommandResult> RunAsync(string file, IReadOnlyList<string> args, string? stdin = null)
    {
        var (all, psi) = Prepare(file, args);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {all[0]}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        string? unread = null;
        try
        {
            if (stdin != null) await p.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            p.StandardInput.Close();
        }
        catch (IOException e)
        {
            unread = Unread(p, e);
        }
        var started = Stopwatch.StartNew();
        try
        {
            await Task.WhenAll(stdout, stderr).WaitAsync(_timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            p.Kill(entireProcessTree: true);
            throw Timeout(all);
        }
        // Both outputs ended: the program closed them, as iptables and nft do by exiting, so this wait is short. Not
        // WaitForExitAsync: on Linux it registers a thread-pool wait, which runs a thread of its own (".NET Wait") that
        // stays 20 s after its last wait, i.e. for good with a check every 5 s.
        var left = _timeout - started.Elapsed;
        if (!p.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero))
        {
            p.Kill(entireProcessTree: true);
            throw Timeout(all);
        }
        return Result(all, p.ExitCode, stdout.Result, stderr.Result, unread);
    }

    /// <summary>
    /// The program closed its input before reading all of it (EPIPE), as an iptables-restore that fails early does.
    /// Its exit code and stderr say why, so they are what the caller gets, not a bare "Broken pipe". The writer is
    /// left alone: closing it would flush into the broken pipe again.
    /// </summary>
    private static string Unread(Process p, IOException e)
    {
        p.StandardInput.BaseStream.Dispose();
        return $"stdin not fully written: {e.Message}";
    }

    private static CommandResult Result(List<string> all, int exitCode, string stdout, string stderr, string? unread)
    {
        if (unread is null) return new CommandResult(exitCode, stdout, stderr);
        // Success without reading the input would drop it (a rule set never applied): that is an error, never a result.
        if (exitCode == 0)
            throw new InvalidOperationException($"`{string.Join(' ', all)}` exited 0 without reading all its input ({unread})");
        return new CommandResult(exitCode, stdout, $"{stderr}({unread}; the program exited before reading it)\n");
    }

    private (List<string> All, ProcessStartInfo Psi) Prepare(string file, IReadOnlyList<string> args)
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
        return (all, psi);
    }

    private TimeoutException Timeout(List<string> all) =>
        new($"`{string.Join(' ', all)}` did not finish within {_timeout.TotalSeconds:0} s");
}

public static class CommandRunnerExtensions
{
    /// <summary>Runs and throws <see cref="InvalidOperationException"/> with stderr when the exit code is not 0.</summary>
    public static string RunChecked(this ICommandRunner runner, string what, string file, IReadOnlyList<string> args, string? stdin = null) =>
        StdoutOrThrow(runner.Run(file, args, stdin), what, file, args);

    /// <inheritdoc cref="RunChecked"/>
    public static async Task<string> RunCheckedAsync(this ICommandRunner runner, string what, string file, IReadOnlyList<string> args, string? stdin = null) =>
        StdoutOrThrow(await runner.RunAsync(file, args, stdin).ConfigureAwait(false), what, file, args);

    private static string StdoutOrThrow(CommandResult r, string what, string file, IReadOnlyList<string> args) =>
        r.ExitCode == 0 ? r.Stdout
        : throw new InvalidOperationException($"{what}: `{file} {string.Join(' ', args)}` exited {r.ExitCode}: {r.Stderr.Trim()}");
}
