using Microsoft.Extensions.Logging;

namespace Flannel.Host.Tests.Ctl;

/// <summary>Keeps every log event (id, level, message) so a test can assert what was logged.</summary>
public sealed class RecordingLogger : ILogger
{
    private readonly List<(EventId Id, LogLevel Level, string Message)> _events = [];

    public IReadOnlyList<(EventId Id, LogLevel Level, string Message)> Events
    {
        get { lock (_events) return _events.ToList(); }
    }

    public IReadOnlyList<string> MessagesOf(EventId id) => Events.Where(e => e.Id.Id == id.Id).Select(e => e.Message).ToList();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_events) _events.Add((eventId, logLevel, formatter(state, exception)));
    }
}
