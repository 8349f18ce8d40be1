using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Flannel.Testing;

/// <summary>One log call as a test sees it: category, level, event id, the rendered message and its named fields.</summary>
public sealed record LoggedEvent(string Category, LogLevel Level, EventId EventId, string Message,
    IReadOnlyDictionary<string, object?> Fields)
{
    /// <summary>A structured field as text ("" when the event has no such field).</summary>
    public string Field(string name) => Fields.TryGetValue(name, out var v) ? v?.ToString() ?? "" : "";
}

/// <summary>
/// An ILoggerFactory that keeps every log call in memory, for tests that assert what a component logged: hand it to an
/// ActorSystem through FlannelLoggingSetup, or pass <see cref="CreateLogger"/> to a component. Thread-safe.
/// </summary>
public sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LoggedEvent> _events = new();

    public IReadOnlyList<LoggedEvent> Events => _events.ToArray();

    public IReadOnlyList<LoggedEvent> WithId(int eventId) => Events.Where(e => e.EventId.Id == eventId).ToList();

    public IReadOnlyList<LoggedEvent> WithId(EventId eventId) => WithId(eventId.Id);

    /// <summary>The rendered messages of one event id, in logging order.</summary>
    public IReadOnlyList<string> MessagesOf(EventId eventId) => WithId(eventId).Select(e => e.Message).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _events);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<LoggedEvent> events) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value)
                : new Dictionary<string, object?>();
            events.Enqueue(new LoggedEvent(category, logLevel, eventId, formatter(state, exception), fields));
        }
    }
}
