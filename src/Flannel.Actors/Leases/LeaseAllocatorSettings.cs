using Akka.Actor;
using Akka.Configuration;

namespace Flannel.Actors.Leases;

/// <summary>The flannel.leases HOCON section (see <see cref="LeaseConfig"/>).</summary>
public sealed record LeaseAllocatorSettings(
    string AllocatorName,
    string? Role,
    string ReplicatorKey,
    TimeSpan MajorityTimeout,
    TimeSpan GcInterval)
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
            c.GetTimeSpan("gc-interval"));
    }
}
