using Flannel.Host.Options;

namespace Flannel.Host.Agent;

/// <summary>The process's logger factory: one line per event on stderr (like flannel), text or JSON (--log-format).</summary>
public static class AgentLogging
{
    public static ILoggerFactory Create(LogFormat format, LogLevel level) => LoggerFactory.Create(b =>
    {
        b.SetMinimumLevel(level);
        // Akka's remoting and ASP.NET are chatty at Information; their warnings still show.
        b.AddFilter("Akka", level > LogLevel.Information ? level : LogLevel.Information);
        b.AddFilter("Microsoft", LogLevel.Warning);
        if (format == LogFormat.Json)
            b.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        else
            b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        b.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
