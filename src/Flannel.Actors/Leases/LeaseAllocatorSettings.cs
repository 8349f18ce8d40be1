using Akka.Actor;
using Akka.Configuration;

namespace Flannel.Actors.Leases;

/// <summary>The flannel.leases HOCON section (see <see cref="LeaseConfig"/>).</summary>
public sealed record LeaseAllocatorSettings(
    string AllocatorName,
    string? Role,
    string ReplicatorKey,
    TimeSpan MajorityTimeout,
    TimeSpan GcInterval,
    int MaxLeases,
    int MaxQueuedPerSender,
    int MaxQueued)
{
    public static LeaseAllocatorSettings Create(ActorSystem system) =>
        Create(system.Settings.Config.GetConfig("flannel.leases")?.WithFallback(LeaseConfig.Default.GetConfig("flannel.leases"))
               ?? LeaseConfig.Default.GetConfig("flannel.leases"));

    public static LeaseAllocatorSettings Create(Config c)
    {
        var role = c.GetString("role", "");
        return new LeaseAllocatorSettings(
            c.GetString("allocator-name"),
            string.IsNullOrEmpty(role) ? null : role,
            c.GetString("replicator-key"),
            c.GetTimeSpan("majority-timeout"),
            c.GetTimeSpan("gc-interval"),
            Positive(c, "max-leases"),
            Positive(c, "max-queued-per-sender"),
            Positive(c, "max-queued"));
    }

    private static int Positive(Config c, string key)
    {
        var value = c.GetInt(key);
        return value > 0
            ? value
            : throw new Akka.Configuration.ConfigurationException($"flannel.leases.{key} must be at least 1 (got {value})");
    }
}
