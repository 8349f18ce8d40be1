using Akka.Actor;
using AkkaLogLevel = Akka.Event.LogLevel;

namespace Flannel.Actors.Cmd;

/// <summary>The `log` palette: `log level` shows the level, `log level &lt;level&gt;` changes it for the process and Akka.</summary>
public sealed class LogPaletteActor : PaletteActor
{
    private readonly ILogLevelSwitch? _switch;

    public LogPaletteActor(ILogLevelSwitch? logLevel) : base("log") => _switch = logLevel;

    public static Props Props(ILogLevelSwitch? logLevel) => Akka.Actor.Props.Create(() => new LogPaletteActor(logLevel));

    protected override IReadOnlyList<string> Commands { get; } = ["level [trace|debug|information|warning|error|critical]"];

    protected override Task<CmdReply> HandleAsync(CmdRequest request)
    {
        if (request.Command != "level") return Task.FromResult<CmdReply>(Unknown(request));
        if (request.Arg(0) is not { } level)
            return Task.FromResult(Ok(new LogLevelView(_switch?.Current ?? Context.System.EventStream.LogLevel.ToString(), null)));

        var akkaLevel = ToAkka(level);
        var previous = _switch?.Current ?? Context.System.EventStream.LogLevel.ToString();
        _switch?.Set(level);
        Context.System.EventStream.SetLogLevel(akkaLevel);
        return Task.FromResult(Ok(new LogLevelView(_switch?.Current ?? akkaLevel.ToString(), previous)));
    }

    /// <summary>Maps a Microsoft.Extensions.Logging level name (or a common short form) to Akka's coarser levels.</summary>
    public static AkkaLogLevel ToAkka(string level) => level.ToLowerInvariant() switch
    {
        "trace" or "debug" => AkkaLogLevel.DebugLevel,
        "information" or "info" => AkkaLogLevel.InfoLevel,
        "warning" or "warn" => AkkaLogLevel.WarningLevel,
        "error" or "critical" or "none" => AkkaLogLevel.ErrorLevel,
        _ => throw new FormatException(
            $"log level '{level}' is not one of trace, debug, information, warning, error, critical, none"),
    };
}
