using Flannel.Host.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Flannel.Host.Logging;

/// <summary>
/// The process's logging: text (one line per event) or, with `--log-format json`, one JSON object per line from
/// Microsoft.Extensions.Logging's JSON console formatter, with "EventId" for the events of FlannelLog. Everything goes
/// to stderr like flannel's klog output, so stdout stays clean for tools. The level follows a <see cref="LogLevelSwitch"/>.
/// The lines are written by <see cref="StderrLoggerProvider"/> on the logging thread, not by the console logger's queue
/// thread (one thread less per agent; bench/footprint/RESULTS.md, fifth session).
/// </summary>
public static class FlannelLoggerFactory
{
    public static ILoggerFactory Create(LogFormat format, LogLevelSwitch level)
    {
        var formatters = Formatters(format);
        var name = format == LogFormat.Json ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple;
        var formatter = formatters.GetServices<ConsoleFormatter>().Single(f => f.Name == name);
        return LoggerFactory.Create(builder =>
        {
            builder.ClearProviders();
            builder.SetMinimumLevel(LogLevel.Trace);
            builder.AddFilter((_, _, l) => level.IsEnabled(l));
            builder.AddProvider(new StderrLoggerProvider(formatter, formatters));
        });
    }

    /// <summary>
    /// The console logger's own formatters with our options (the same lines as before), taken from a service container
    /// of their own: only the formatters are resolved from it, never the console logger provider (and its thread).
    /// </summary>
    private static ServiceProvider Formatters(LogFormat format)
    {
        var services = new ServiceCollection();
        services.AddLogging(builder =>
        {
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
        });
        return services.BuildServiceProvider();
    }
}
