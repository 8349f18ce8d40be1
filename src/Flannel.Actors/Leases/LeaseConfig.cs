using Akka.Configuration;

namespace Flannel.Actors.Leases;

/// <summary>
/// The HOCON the lease layer needs: the serializer binding (mandatory: include <see cref="Default"/> when creating the
/// ActorSystem, e.g. <c>ConfigurationFactory.ParseString(hocon).WithFallback(LeaseConfig.Default)</c>) and the
/// allocator's timings. The one place these settings are written and documented: flanneld applies it below the bundled
/// hocon/*.hocon files, so an operator overrides a key (e.g. flannel.leases.max-leases) with --hocon-file.
/// </summary>
public static class LeaseConfig
{
    public const string Hocon = """
        flannel.leases {
          # Name of the cluster singleton (its manager lives at /user/<allocator-name>).
          allocator-name = "flannel-lease-allocator"
          # Only nodes with this cluster role host the allocator and count for majorities ("" = every node).
          role = ""
          # DistributedData key of the lease table.
          replicator-key = "flannel-leases"
          # How long a ReadMajority / WriteMajority may take before a claim counts as failed (transient, retried).
          majority-timeout = 3s
          # How often the allocator removes expired leases.
          gc-interval = 60s
          # Most entries the lease table may hold (one per node): a claim that would add one more is refused.
          max-leases = 5000
          # Requests (claims, releases) the allocator keeps queued or in its current round per sender address; a node has
          # at most one claim in flight plus the odd release, so more is refused (transient) and counted.
          max-queued-per-sender = 4
          # Requests queued or in the current round from all senders together; beyond it every request is refused (transient).
          max-queued = 1024
        }
        # Nodes that join during a partition must not count towards the allocator's majorities: a minority side that
        # admitted WeaklyUp joiners could otherwise reach a "majority" and hand out subnets the other side also hands out.
        akka.cluster.allow-weakly-up-members = off
        # How fast a new or changed lease reaches every node (and its routes), against what the idle agent pays. A write
        # reaches a majority directly (WriteMajority); the other nodes get it as a delta on the replicator's delta tick,
        # every gossip-interval / 5 (at least 200 ms); full-state gossip (the gossip-interval itself) only repairs what a
        # delta missed. Subscribers (route programming) hear of a change within notify-subscribers-interval. Each of these
        # ticks wakes the idle agent (the replicator also runs a clock tick every gossip-interval): at 500 ms / 200 ms
        # the replicator alone took 14 ticks a second. Akka's defaults, 2 s / 500 ms (delta tick 400 ms), took the idle
        # agent from ~105 to ~85 wake-ups/s and a joiner was ready as fast (bench/footprint.sh, RESULTS.md fifth
        # session); a change still reaches every node's routes within about a second. Later config layers may override.
        akka.cluster.distributed-data {
          gossip-interval = 2s
          notify-subscribers-interval = 500ms
        }
        # The durable lease store (flanneld --lease-store): Akka.DistributedData's durable-store protocol with flannel's own file
        # store (LightningDB's does not run here). Only the keys listed in durable.keys are stored: flanneld lists the lease
        # table's key (replicator-key above) when --lease-store is set; without keys (in-process tests, the bench) the lease
        # table lives in memory only.
        akka.cluster.distributed-data.durable {
          store-actor-class = "Flannel.Actors.Leases.Durable.LeaseFileStore, Flannel.Actors"
          # The file (--lease-store sets it): written atomically (temp file, fsync, rename) on every change of the table.
          file.path = ""
        }
        # akka-replicated-data is Akka.DistributedData's own (identifier 11), with the entries of the lease table in one
        # order on every node (Serialization/CanonicalReplicatedDataSerializer): with Akka's, the nodes' gossip digests
        # never matched and every gossip round resent the whole table.
        akka.actor {
          serializers {
            flannel-leases = "Flannel.Actors.Serialization.LeaseSerializer, Flannel.Actors"
            akka-replicated-data = "Flannel.Actors.Serialization.CanonicalReplicatedDataSerializer, Flannel.Actors"
          }
          serialization-bindings {
            "Flannel.Actors.Leases.Lease, Flannel.Actors" = flannel-leases
            "Flannel.Actors.Leases.ILeaseWireMessage, Flannel.Actors" = flannel-leases
            "Akka.DistributedData.IReplicatedDataSerialization, Akka.DistributedData" = akka-replicated-data
          }
          serialization-identifiers {
            "Flannel.Actors.Serialization.LeaseSerializer, Flannel.Actors" = 4711
            "Flannel.Actors.Serialization.CanonicalReplicatedDataSerializer, Flannel.Actors" = 11
          }
        }
        """;

    /// <summary><see cref="Hocon"/> plus the wire lock (<see cref="Serialization.WireConfig"/>): only bound types cross the wire.</summary>
    public static Config Default { get; } = ConfigurationFactory.ParseString(Hocon).WithFallback(Serialization.WireConfig.Default);
}
