using Akka.Actor;
using Flannel.Actors.Routes;

namespace Flannel.Actors.Kubernetes;

/// <summary>Subscribe to <see cref="ForeignNodesChanged"/>; the subscriber gets the current view at once.</summary>
public sealed record SubscribeForeignNodes(IActorRef Subscriber);

/// <summary>The Nodes with flannel annotations and the hosts of the live cluster members changed.</summary>
public sealed record ForeignNodesChanged(ForeignNodeView View);
