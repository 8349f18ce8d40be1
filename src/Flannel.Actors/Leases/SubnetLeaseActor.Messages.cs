using System.Collections.Immutable;
using System.Net;
using Akka.Actor;

namespace Flannel.Actors.Leases;

// The public protocol of SubnetLeaseActor (local messages; never sent between nodes).

/// <summary>Acquire (or re-acquire) this node's lease. Reply: <see cref="LeaseAcquired"/> or, only for a permanent
/// error such as "out of subnets", <see cref="LeaseAcquireFailed"/>. Transient failures (no majority, allocator
/// moving) are retried every RetryInterval until one of the two.</summary>
public sealed record AcquireLease
{
    public static readonly AcquireLease Instance = new();
}

public sealed record LeaseAcquired(Lease Lease);

public sealed record LeaseAcquireFailed(string Reason);

/// <summary>Subscribe to the lease table: the subscriber gets a <see cref="LeaseSnapshot"/> at once and a new one whenever
/// the table or this node's lease changes (what the route programmer and the node-deletion releaser need). With
/// <paramref name="OwnLeaseEvents"/> (the node agent) it also gets <see cref="OwnLeaseChanged"/> and
/// <see cref="OwnLeaseLost"/>, each before the snapshot that shows it. The subscription ends when the subscriber
/// terminates or sends <see cref="UnsubscribeLeases"/>.</summary>
public sealed record SubscribeLeases(IActorRef Subscriber, bool OwnLeaseEvents = false);

public sealed record UnsubscribeLeases(IActorRef Subscriber);

/// <summary>The whole replicated lease table (expired but not yet collected leases included; check Expiration) and
/// this node's lease (<paramref name="Own"/>, null before the first grant; it may be ahead of the replicated table).</summary>
public sealed record LeaseSnapshot(IImmutableDictionary<IPNetwork, Lease> Leases, Lease? Own = null);

/// <summary>This node's lease was replaced: it lost a race or its lease was released/expired, and it took
/// <paramref name="New"/> (perhaps another subnet). Routes and subnet.env must follow.</summary>
public sealed record OwnLeaseChanged(Lease? Old, Lease New, string Reason);

/// <summary>This node's lease is gone and a new one could not be acquired for a permanent reason.</summary>
public sealed record OwnLeaseLost(Lease Old, string Reason);

/// <summary>Re-advertise the own lease with another backend (live backend switch). Reply: <see cref="BackendUpdated"/>
/// or <see cref="BackendUpdateFailed"/>.</summary>
public sealed record UpdateBackend(string BackendType, string? BackendData);

public sealed record BackendUpdated(Lease Lease);

public sealed record BackendUpdateFailed(string Reason);

/// <summary>Why a lease is released; the allocator applies a different rule to each.</summary>
public enum ReleaseKind
{
    /// <summary>The node gives up its own lease: only its registered owner (member address) may.</summary>
    Own,
    /// <summary>`flanneld ctl lease release`: a lease of a live member only with <see cref="ReleaseLease.Force"/>.</summary>
    Operator,
    /// <summary>The node was deleted from Kubernetes: only when the allocator's node list agrees.</summary>
    NodeDeleted,
}

/// <summary>Free a subnet at once on every node (operator command, Kubernetes node deleted). Reply:
/// <see cref="LeaseReleased"/> or <see cref="LeaseReleaseFailed"/> (refused, or e.g. no majority reachable).</summary>
public sealed record ReleaseLease(IPNetwork Subnet, ReleaseKind Kind, bool Force = false);

public sealed record LeaseReleased(IPNetwork Subnet);

public sealed record LeaseReleaseFailed(string Reason);

/// <summary>Reply: <see cref="LeaseSnapshot"/> (table and own lease).</summary>
public sealed record GetLeases
{
    public static readonly GetLeases Instance = new();
}

/// <summary>Reply: <see cref="OwnLease"/>.</summary>
public sealed record GetOwnLease
{
    public static readonly GetOwnLease Instance = new();
}

/// <summary>This node's current lease, null before the first successful acquire.</summary>
public sealed record OwnLease(Lease? Lease);
