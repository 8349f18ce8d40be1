using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;
using MelLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Flannel.Host.Logging;

/// <summary>
/// Akka logger that routes Akka's log events into Microsoft.Extensions.Logging (the factory given in
/// <see cref="FlannelLoggingSetup"/>), so `--log-format json` covers cluster and remoting messages too.
/// Enabled by <see cref="AkkaLogging.Config"/>.
/// </summary>
public sealed class AkkaLoggerBridge : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _factory;

    public AkkaLoggerBridge()
    {
        _factory = Context.System.LoggerFactory();
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(Log);
    }

    private void Log(LogEvent e)
    {
        var logger = _factory.CreateLogger(e.LogClass?.FullName ?? "Akka");
        var level = e.LogLevel() switch
        {
            Akka.Event.LogLevel.DebugLevel => MelLogLevel.Debug,
            Akka.Event.LogLevel.InfoLevel => MelLogLevel.Information,
            Akka.Event.LogLevel.WarningLevel => MelLogLevel.Warning,
            _ => MelLogLevel.Error,
        };
        if (!logger.IsEnabled(level)) return;
        var state = new List<KeyValuePair<string, object?>>();
        if (e.Message is LogMessage message)
        {
            foreach (var property in message.GetProperties()) state.Add(property);
        }
        state.Add(new("AkkaSource", e.LogSource));
        state.Add(new("Message", e.Message?.ToString() ?? ""));
        state.Add(new("{OriginalFormat}", "{Message}"));
        logger.Log(level, default, (IReadOnlyList<KeyValuePair<string, object?>>)state, e.Cause, static (s, _) => (string)s[^2].Value!);
    }
}

/// <summary>The HOCON that makes Akka log through <see cref="AkkaLoggerBridge"/>; put it in front of the agent's config.</summary>
public static class AkkaLogging
{
    public static Config Config(Microsoft.Extensions.Logging.LogLevel level) => ConfigurationFactory.ParseString($$"""
        akka {
          loggers = ["{{typeof(AkkaLoggerBridge).FullName}}, {{typeof(AkkaLoggerBridge).Assembly.GetName().Name}}"]
          loglevel = {{AkkaLevel(level)}}
          logger-startup-timeout = 10s
        }
        """);

    public static string AkkaLevel(Microsoft.Extensions.Logging.LogLevel level) => level switch
    {
        MelLogLevel.Trace or MelLogLevel.Debug => "DEBUG",
        MelLogLevel.Information => "INFO",
        MelLogLevel.Warning => "WARNING",
        MelLogLevel.None => "OFF",
        _ => "ERROR",
    };
}
