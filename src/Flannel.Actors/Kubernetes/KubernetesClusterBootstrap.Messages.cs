namespace Flannel.Actors.Kubernetes;

/// <summary>Asked of a contact point's <see cref="BootstrapProbeResponder"/>: are you in a cluster?</summary>
public sealed record BootstrapProbe;

/// <summary>The answer; <paramref name="Members"/> are the Up members' addresses as strings (plain data for remoting).</summary>
public sealed record BootstrapProbeReply(bool IsMember, string[] Members);

/// <summary>Published on the event stream when the bootstrap decided to form or join.</summary>
public sealed record ClusterBootstrapDecided(BootstrapDecision Decision);
