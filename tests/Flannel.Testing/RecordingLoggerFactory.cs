using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Flannel.Testing;

/// <summary>One log call as a test sees it: category, level, event id and the rendered message.</summary>
public sealed record LoggedEvent(string Category, LogLevel Level, EventId EventId, string Message);

/// <summary>
/// An ILoggerFactory that keeps every log call in memory, for tests that assert what a component logged (hand it to
/// an ActorSystem through FlannelLoggingSetup). Thread-safe.
/// </summary>
public sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LoggedEvent> _events = new();

    public IReadOnlyList<LoggedEvent> Events => _events.ToArray();

    public IEnumerable<LoggedEvent> WithId(int eventId) => Events.Where(e => e.EventId.Id == eventId);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _events);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<LoggedEvent> events) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            events.Enqueue(new LoggedEvent(category, logLevel, eventId, formatter(state, exception)));
    }
}
