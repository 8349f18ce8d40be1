using Akka.Actor;

namespace Flannel.Actors.Cmd;

/// <summary>
/// Base of the palette handlers: one actor per palette answers <see cref="CmdRequest"/>s with a <see cref="CmdReply"/>.
/// Requests are handled one at a time; an exception becomes a <see cref="CmdFailed"/> naming the command, so an
/// operator's typo never restarts the actor or leaves the client waiting for a timeout.
/// </summary>
public abstract class PaletteActor : ReceiveActor
{
    protected PaletteActor(string palette)
    {
        Palette = palette;
        ReceiveAsync<CmdRequest>(async request =>
        {
            var sender = Sender;
            sender.Tell(await SafeHandle(request));
        });
        Receive<CmdSubscribe>(OnSubscribe);
    }

    public string Palette { get; }

    /// <summary>The commands this palette understands, for the "unknown command" message.</summary>
    protected abstract IReadOnlyList<string> Commands { get; }

    protected abstract Task<CmdReply> HandleAsync(CmdRequest request);

    protected virtual void OnSubscribe(CmdSubscribe subscribe) =>
        subscribe.Subscriber.Tell(new CmdFailed(
            $"'{Palette} {subscribe.Request.Command}' is not a streaming command", CmdExitCodes.Usage));

    protected CmdFailed Unknown(CmdRequest request) =>
        new($"unknown command '{Palette} {request.Command}'; {Palette} commands: {string.Join(", ", Commands)}",
            CmdExitCodes.Usage);

    protected static CmdFailed Usage(string message) => new(message, CmdExitCodes.Usage);

    protected static CmdReply Ok(object data) => new CmdOk(data);

    private async Task<CmdReply> SafeHandle(CmdRequest request)
    {
        try
        {
            return await HandleAsync(request);
        }
        catch (FormatException e)
        {
            return new CmdFailed($"{Palette} {request.Command}: {e.Message}", CmdExitCodes.Usage);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The agent keeps running; the operator sees what went wrong instead of a timeout.
            return new CmdFailed($"{Palette} {request.Command}: {e.GetType().Name}: {e.Message}");
        }
    }
}
