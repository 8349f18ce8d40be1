using System.Text.Json;
using Flannel.Actors.Cmd;
using Spectre.Console;

namespace Flannel.Host.Ctl;

/// <summary>
/// `flanneld ctl [--socket /run/flannel/flanneld.sock | --host 127.0.0.1:PORT] [--json] &lt;palette&gt; &lt;command&gt; [args]`:
/// the operator's client for the agent's command host. Tables for people, --json for scripts, exit codes from <see cref="CmdExitCodes"/>.
/// </summary>
public static class CtlCommand
{
    public static int Run(string[] args)
    {
        using var cts = new CancellationTokenSource();
        // Ctrl-C ends `cluster tail` (and any wait) cleanly instead of killing the process mid-write.
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            return RunAsync(args, Console.Out, Console.Error, Console.In, interactive: !Console.IsOutputRedirected, cts.Token)
                .GetAwaiter().GetResult();
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The testable core: all I/O through the given writers/reader.</summary>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, TextReader stdin, bool interactive, CancellationToken ct)
    {
        CtlArgs parsed;
        try
        {
            parsed = CtlArgs.Parse(args);
        }
        catch (FormatException e)
        {
            await stderr.WriteLineAsync($"ctl: {e.Message} (flanneld ctl --help lists the commands)");
            return CmdExitCodes.Usage;
        }
        if (parsed.Help)
        {
            await stdout.WriteAsync(CtlArgs.Usage);
            return CmdExitCodes.Ok;
        }
        var console = CreateConsole(stdout, interactive);
        try
        {
            if (parsed.Request is { Palette: CmdPalettes.Lease, Command: "release" } && !parsed.Request.Has("yes"))
            {
                var confirmed = await Confirm(parsed, console, stderr, stdin, ct);
                if (confirmed != CmdExitCodes.Ok) return confirmed;
            }
            return await Execute(parsed, parsed.Request, console, stdout, stderr, ct);
        }
        catch (CtlUnavailableException e)
        {
            await stderr.WriteLineAsync($"ctl: {e.Message}");
            return CmdExitCodes.Unavailable;
        }
    }

    private static async Task<int> Execute(
        CtlArgs args, CmdRequest request, IAnsiConsole console, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var renderer = new CtlRenderer(console);
        var answered = false;
        await foreach (var response in CtlClient.SendAsync(args.Host, request, args.Timeout, ct))
        {
            answered = true;
            switch (response.Kind)
            {
                case CtlWire.Kinds.Error:
                    await stderr.WriteLineAsync($"ctl: {response.Error}");
                    return response.ExitCode == CmdExitCodes.Ok ? CmdExitCodes.Failed : response.ExitCode;
                case CtlWire.Kinds.Item when args.Json:
                    await stdout.WriteLineAsync(response.Data?.ToJsonString(CtlWire.Json) ?? "null");
                    await stdout.FlushAsync(ct);
                    break;
                case CtlWire.Kinds.Result when args.Json:
                    await stdout.WriteLineAsync(response.Data?.ToJsonString(Indented) ?? "null");
                    return CmdExitCodes.Ok;
                case CtlWire.Kinds.Item:
                    renderer.Render(CtlRenderer.Deserialize(request, response.Data));
                    await stdout.FlushAsync(ct);
                    break;
                case CtlWire.Kinds.Result:
                    renderer.Render(CtlRenderer.Deserialize(request, response.Data));
                    return CmdExitCodes.Ok;
                default:
                    await stderr.WriteLineAsync($"ctl: unexpected response kind '{response.Kind}'");
                    return CmdExitCodes.Unavailable;
            }
        }
        if (CmdPalettes.IsStreaming(request) && ct.IsCancellationRequested) return CmdExitCodes.Ok;
        if (!answered || !CmdPalettes.IsStreaming(request))
        {
            await stderr.WriteLineAsync($"ctl: the command host at {args.HostText} closed the connection without an answer");
            return CmdExitCodes.Unavailable;
        }
        return CmdExitCodes.Ok;
    }

    /// <summary>Shows the lease about to be released and asks; anything but y/yes (or end of input) declines.</summary>
    private static async Task<int> Confirm(CtlArgs args, IAnsiConsole console, TextWriter stderr, TextReader stdin, CancellationToken ct)
    {
        if (args.Request.Arg(0) is not { } subnet)
        {
            await stderr.WriteLineAsync("ctl: lease release needs a subnet: lease release <subnet>");
            return CmdExitCodes.Usage;
        }
        var show = CmdRequest.Of(CmdPalettes.Lease, "show", subnet);
        var quiet = CreateConsole(TextWriter.Null, false);
        var found = await Execute(args with { Json = false }, show, quiet, TextWriter.Null, stderr, ct);
        if (found != CmdExitCodes.Ok) return found;
        await stderr.WriteAsync($"release the lease on {subnet}? Other nodes drop its routes and another node may take it. [y/N] ");
        await stderr.FlushAsync(ct);
        var answer = (await stdin.ReadLineAsync(ct))?.Trim().ToLowerInvariant();
        if (answer is "y" or "yes") return CmdExitCodes.Ok;
        await stderr.WriteLineAsync(answer is null
            ? "ctl: not confirmed (no input); pass --yes to release without asking"
            : "ctl: not confirmed; nothing released");
        return CmdExitCodes.NotConfirmed;
    }

    private static readonly JsonSerializerOptions Indented = new(CtlWire.Json) { WriteIndented = true };

    private static IAnsiConsole CreateConsole(TextWriter writer, bool interactive)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        // Piped output (kubectl exec, tests, the demo) has no terminal width; Akka addresses need room.
        if (!interactive) console.Profile.Width = 200;
        return console;
    }
}
