using Akka.Actor;

namespace Flannel.Actors.Cmd;

/// <summary>
/// One operator command, transport-independent: `flanneld ctl lease release 10.5.1.0/24 --force` arrives as
/// Palette "lease", Command "release", Args ["10.5.1.0/24"], Switches {"force"}.
/// </summary>
public sealed record CmdRequest(string Palette, string Command, IReadOnlyList<string> Args, IReadOnlySet<string> Switches)
{
    public static CmdRequest Of(string palette, string command, params string[] args) =>
        new(palette, command, args, new HashSet<string>(StringComparer.Ordinal));

    public CmdRequest With(params string[] switches) =>
        this with { Switches = new HashSet<string>(Switches.Concat(switches), StringComparer.Ordinal) };

    public bool Has(string @switch) => Switches.Contains(@switch);

    public string? Arg(int index) => index < Args.Count ? Args[index] : null;
}

/// <summary>What a palette actor answers to a <see cref="CmdRequest"/> (via Ask).</summary>
public abstract record CmdReply;

/// <summary>Success; <paramref name="Data"/> is one of the view records in CmdViews.cs.</summary>
public sealed record CmdOk(object Data) : CmdReply;

/// <summary>Failure the operator should see; <paramref name="ExitCode"/> becomes the CLI's exit code.</summary>
public sealed record CmdFailed(string Error, int ExitCode = CmdExitCodes.Failed) : CmdReply;

/// <summary>
/// A streaming command (cluster tail): the palette sends <see cref="CmdStreamItem"/> to <paramref name="Subscriber"/>
/// until the subscriber stops (the client disconnected). A refusal arrives as <see cref="CmdFailed"/>.
/// </summary>
public sealed record CmdSubscribe(CmdRequest Request, IActorRef Subscriber);

/// <summary>One item of a stream; <paramref name="Data"/> is a view record (e.g. <see cref="ClusterEventRow"/>).</summary>
public sealed record CmdStreamItem(object Data);

/// <summary>Exit codes shared by the command host and the CLI.</summary>
public static class CmdExitCodes
{
    public const int Ok = 0;
    /// <summary>The agent refused or could not carry out the command.</summary>
    public const int Failed = 1;
    /// <summary>Bad command line or unknown palette/command.</summary>
    public const int Usage = 2;
    /// <summary>No command host answered (connection refused, timeout, protocol error).</summary>
    public const int Unavailable = 3;
    /// <summary>The operator did not confirm, or a guard (--force) was needed.</summary>
    public const int NotConfirmed = 4;
}
