using System.Net;

namespace Flannel.Actors.Leases;

// The protocol between each node's SubnetLeaseActor and the cluster-singleton LeaseAllocatorActor. These cross the
// network, so all of them are bound to LeaseSerializer. RequestId lets the node drop late replies to requests it
// already gave up on.

/// <summary>Marker for messages serialized by <see cref="Serialization.LeaseSerializer"/>.</summary>
public interface ILeaseWireMessage;

internal sealed record ClaimRequest(long RequestId, LeaseClaim Claim) : ILeaseWireMessage;

internal sealed record ClaimGranted(long RequestId, Lease Lease, string How) : ILeaseWireMessage;

/// <summary><paramref name="Permanent"/>: retrying will not help (out of subnets); otherwise e.g. no majority.</summary>
internal sealed record ClaimRefused(long RequestId, string Reason, bool Permanent) : ILeaseWireMessage;

/// <summary>
/// Free <paramref name="Subnet"/>. The allocator judges it by <paramref name="Kind"/> (see ReleaseAuthorizer) and takes
/// the requester's address from the sender; <paramref name="OriginNode"/> (the requesting agent's node name) and
/// <paramref name="Via"/> ("ctl", "kube", "agent") are what it logs as the origin.
/// </summary>
internal sealed record ReleaseRequest(long RequestId, IPNetwork Subnet, ReleaseKind Kind, bool Force, string OriginNode, string Via)
    : ILeaseWireMessage;

internal sealed record ReleaseDone(long RequestId, IPNetwork Subnet, bool Existed) : ILeaseWireMessage;

internal sealed record ReleaseRefused(long RequestId, string Reason) : ILeaseWireMessage;
