using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Flannel.Host.Logging;

/// <summary>
/// Writes each log event to stderr on the thread that logs it, formatted by one of the console logger's formatters.
/// The console logger instead queues the line for a thread of its own (the `Console logger` thread every agent kept);
/// the agent logs a few lines a minute at idle, so that thread only cost a thread. A full stderr pipe now blocks the
/// logging thread at once, where the console logger blocked it once its queue (2500 lines) was full.
/// </summary>
internal sealed class StderrLoggerProvider(ConsoleFormatter formatter, IDisposable? owner = null) : ILoggerProvider
{
    private static readonly Lock Write = new();

    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName, formatter);

    public void Dispose() => owner?.Dispose();

    private sealed class StderrLogger(string category, ConsoleFormatter formatter) : ILogger
    {
        [ThreadStatic] private static StringWriter? t_line;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => NullScope.Instance;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> format)
        {
            if (!IsEnabled(logLevel)) return;
            var line = t_line ??= new StringWriter();
            formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, format), null, line);
            var text = line.GetStringBuilder();
            if (text.Length == 0) return;
            var s = text.ToString();
            text.Clear();
            // A rare huge line (an exception with a long stack) does not stay allocated per thread.
            if (text.Capacity > 16 * 1024) t_line = null;
            // Console.Error is read at each write (tests redirect it); one line at a time, whole.
            lock (Write) Console.Error.Write(s);
        }
    }

    private sealed class NullScope : IDisposable
    {
        public static readonly NullScope Instance = new();

        public void Dispose() { }
    }
}
