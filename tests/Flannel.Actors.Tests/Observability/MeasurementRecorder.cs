using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Flannel.Actors.Tests.Observability;

/// <summary>
/// Records every measurement of the given instruments (value and tags) while it lives. Tests in this assembly run one
/// at a time, so what it sees comes from the test that made it.
/// </summary>
public sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(Instrument Instrument, double Value, IReadOnlyDictionary<string, string> Tags)> _seen = new();

    public MeasurementRecorder(params Instrument[] instruments)
    {
        _listener.InstrumentPublished = (i, l) =>
        {
            if (instruments.Contains(i)) l.EnableMeasurementEvents(i);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in tags) copy[t.Key] = t.Value?.ToString() ?? "";
        _seen.Enqueue((instrument, value, copy));
    }

    /// <summary>The measurements of <paramref name="instrument"/> in the order they were recorded.</summary>
    public IReadOnlyList<(double Value, IReadOnlyDictionary<string, string> Tags)> Of(Instrument instrument) =>
        _seen.Where(m => ReferenceEquals(m.Instrument, instrument)).Select(m => (m.Value, m.Tags)).ToList();

    public void Dispose() => _listener.Dispose();
}
