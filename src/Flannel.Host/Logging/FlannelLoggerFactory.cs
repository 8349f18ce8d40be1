using Flannel.Host.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Flannel.Host.Logging;

/// <summary>
/// The process's logging: text (one line per event) or, with `--log-format json`, one JSON object per line from
/// Microsoft.Extensions.Logging's JSON console formatter, with "EventId" for the events of FlannelLog. Everything goes
/// to stderr like flannel's klog output, so stdout stays clean for tools. The level follows a <see cref="LogLevelSwitch"/>.
/// </summary>
public static class FlannelLoggerFactory
{
    public static ILoggerFactory Create(LogFormat format, LogLevelSwitch level) =>
        LoggerFactory.Create(builder => Configure(builder, format, level));

    private static void Configure(ILoggingBuilder builder, LogFormat format, LogLevelSwitch level)
    {
        builder.ClearProviders();
        builder.SetMinimumLevel(LogLevel.Trace);
        builder.AddFilter((_, _, l) => level.IsEnabled(l));
        builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        if (format == LogFormat.Json)
        {
            builder.AddJsonConsole(o =>
            {
                o.IncludeScopes = false;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    }
}
