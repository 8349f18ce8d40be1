using System.Diagnostics.Metrics;
using Flannel.Actors.Observability;

namespace Flannel.Host.Metrics;

/// <summary>
/// Listens to Flannel.Actors' meter (<see cref="FlannelInstruments"/>) and feeds the Prometheus collectors, so the
/// actor layer records events without knowing about Prometheus. Tags become labels; a missing tag is "".
/// </summary>
public sealed class InstrumentBridge : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly FlannelMetrics _metrics;

    public InstrumentBridge(FlannelMetrics metrics)
    {
        _metrics = metrics;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == FlannelInstruments.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnLong(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => OnDouble(instrument, value, tags));
        _listener.Start();
    }

    private void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (value <= 0) return;
        if (ReferenceEquals(instrument, FlannelInstruments.ReconcileRuns))
            _metrics.ReconcileRuns.WithLabels(Tag(tags, "backend")).Inc(value);
        else if (ReferenceEquals(instrument, FlannelInstruments.ReconcileRepairs))
            _metrics.ReconcileRepairs.WithLabels(Tag(tags, "backend"), Tag(tags, "kind")).Inc(value);
        else if (ReferenceEquals(instrument, FlannelInstruments.BackendSwitches))
            _metrics.BackendSwitches.WithLabels(Tag(tags, "from"), Tag(tags, "to")).Inc(value);
        else if (ReferenceEquals(instrument, FlannelInstruments.DDataUpdates))
            _metrics.DDataUpdates.WithLabels(Tag(tags, "result")).Inc(value);
        else if (ReferenceEquals(instrument, FlannelInstruments.DDataChanges))
            _metrics.DDataChanges.Inc(value);
        else if (ReferenceEquals(instrument, FlannelInstruments.LeaseRequestsRefused))
            _metrics.LeaseRequestsRefused.WithLabels(Tag(tags, "reason")).Inc(value);
        else if (ReferenceEquals(instrument, FlannelInstruments.LeaseEntriesRejected))
            _metrics.LeaseEntriesRejected.WithLabels(Tag(tags, "reason")).Inc(value);
    }

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (ReferenceEquals(instrument, FlannelInstruments.LeaseAcquireSeconds))
            _metrics.LeaseAcquireSeconds.WithLabels(Tag(tags, "result", "ok")).Observe(value);
        else if (ReferenceEquals(instrument, FlannelInstruments.LeaseRenewSeconds))
            _metrics.LeaseRenewSeconds.WithLabels(Tag(tags, "result", "ok")).Observe(value);
        else if (ReferenceEquals(instrument, FlannelInstruments.BackendSwitchSeconds))
            _metrics.BackendSwitchSeconds.Observe(value);
    }

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name, string missing = "")
    {
        foreach (var tag in tags)
            if (tag.Key == name) return tag.Value?.ToString() ?? missing;
        return missing;
    }

    public void Dispose() => _listener.Dispose();
}
