using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Observability;

/// <summary>The durable lease store's events (1100-1119, see <see cref="EventIds"/>).</summary>
public static partial class FlannelLog
{
    [LoggerMessage(EventId = EventIds.Id.LeaseStoreLoaded, EventName = nameof(EventIds.LeaseStoreLoaded), Level = LogLevel.Information,
        Message = "lease store {File}: loaded {Entries} key(s), {Bytes} bytes, in {DurationMs} ms")]
    public static partial void LeaseStoreLoaded(this ILogger logger, string file, int entries, long bytes, long durationMs);

    [LoggerMessage(EventId = EventIds.Id.LeaseStoreEmpty, EventName = nameof(EventIds.LeaseStoreEmpty), Level = LogLevel.Information,
        Message = "lease store {File} does not exist yet: starting from the cluster's lease table")]
    public static partial void LeaseStoreEmpty(this ILogger logger, string file);

    [LoggerMessage(EventId = EventIds.Id.LeaseStoreUnusable, EventName = nameof(EventIds.LeaseStoreUnusable), Level = LogLevel.Error,
        Message = "lease store {File} is unusable: {Problem}; kept as {MovedTo}; starting from the cluster's lease table")]
    public static partial void LeaseStoreUnusable(this ILogger logger, string file, string problem, string movedTo);

    [LoggerMessage(EventId = EventIds.Id.LeaseStoreWriteFailed, EventName = nameof(EventIds.LeaseStoreWriteFailed), Level = LogLevel.Error,
        Message = "lease store {File}: write failed: {Problem}; lease table updates are not acknowledged by this node until a write succeeds")]
    public static partial void LeaseStoreWriteFailed(this ILogger logger, string file, string problem);

    [LoggerMessage(EventId = EventIds.Id.LeaseStoreLocked, EventName = nameof(EventIds.LeaseStoreLocked), Level = LogLevel.Error,
        Message = "lease store {File} is locked by another process or actor system (lock file {LockFile}) after waiting {WaitSeconds} s: " +
                  "two agents must not share one --lease-store; continuing without the lock")]
    public static partial void LeaseStoreLocked(this ILogger logger, string file, string lockFile, double waitSeconds);

    [LoggerMessage(EventId = EventIds.Id.LeaseStoreWriteRecovered, EventName = nameof(EventIds.LeaseStoreWriteRecovered), Level = LogLevel.Information,
        Message = "lease store {File}: written again after {Failures} failed write(s)")]
    public static partial void LeaseStoreWriteRecovered(this ILogger logger, string file, int failures);

    [LoggerMessage(EventId = EventIds.Id.LeaseStoreNotConfigured, EventName = nameof(EventIds.LeaseStoreNotConfigured), Level = LogLevel.Error,
        Message = "durable keys are configured but akka.cluster.distributed-data.durable.file.path is empty: leases are not stored on disk")]
    public static partial void LeaseStoreNotConfigured(this ILogger logger);

    [LoggerMessage(EventId = EventIds.Id.LeaseStoreOff, EventName = nameof(EventIds.LeaseStoreOff), Level = LogLevel.Warning,
        Message = "--lease-store is empty: leases live only in the cluster's memory; after a restart of every agent, " +
                  "a node that is down can lose its subnet to another")]
    public static partial void LeaseStoreOff(this ILogger logger);
}
