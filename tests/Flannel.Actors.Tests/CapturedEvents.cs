using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Tests;

/// <summary>One flannel event as logged: id, level, rendered message and its named fields.</summary>
public sealed record CapturedEvent(int Id, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields)
{
    public string Field(string name) => Fields.TryGetValue(name, out var v) ? v?.ToString() ?? "" : "";
}

/// <summary>
/// An ILoggerFactory for FlannelLoggingSetup that keeps every event with an id (thread-safe), so tests can assert on
/// the security events an actor logs.
/// </summary>
public sealed class CapturedEvents : ILoggerFactory
{
    private readonly List<CapturedEvent> _events = [];

    public IReadOnlyList<CapturedEvent> All
    {
        get { lock (_events) return _events.ToList(); }
    }

    public IReadOnlyList<CapturedEvent> WithId(int id) => All.Where(e => e.Id == id).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(CapturedEvents owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 0) return;
            var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value)
                : new Dictionary<string, object?>();
            lock (owner._events) owner._events.Add(new CapturedEvent(eventId.Id, logLevel, formatter(state, exception), fields));
        }
    }
}
