using Akka.Actor;

namespace Flannel.Actors.Kubernetes;

/// <summary>The net-conf.json text of the kube-flannel-cfg ConfigMap changed (or was seen for the first time).</summary>
public sealed record NetConfChanged(string NetConfJson, string ResourceVersion);

/// <summary>Subscribe to <see cref="NetConfChanged"/>; the current value, when known, is sent at once.</summary>
public sealed record SubscribeNetConf(IActorRef Subscriber);
