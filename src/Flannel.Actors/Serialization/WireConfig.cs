using Akka.Configuration;

namespace Flannel.Actors.Serialization;

/// <summary>
/// What may cross the wire between flannel nodes: the JSON fallback for unbound types is replaced by
/// <see cref="UnboundMessageSerializer"/>, and the few message types flannel sends that Akka does not bind itself get
/// explicit serializers. Part of <see cref="Leases.LeaseConfig.Default"/>, which every flannel ActorSystem must include,
/// so no system can be created with the lease layer but without this lock.
/// </summary>
public static class WireConfig
{
    public const string Hocon = """
        akka.actor {
          serializers {
            # Replaces Akka's Newtonsoft JSON serializer (same name, same identifier 1, still bound to System.Object).
            json = "Flannel.Actors.Serialization.UnboundMessageSerializer, Flannel.Actors"
            flannel-bootstrap = "Flannel.Actors.Serialization.BootstrapProbeSerializer, Flannel.Actors"
          }
          serialization-bindings {
            "Flannel.Actors.Kubernetes.BootstrapProbe, Flannel.Actors" = flannel-bootstrap
            "Flannel.Actors.Kubernetes.BootstrapProbeReply, Flannel.Actors" = flannel-bootstrap
          }
          serialization-identifiers {
            "Flannel.Actors.Serialization.UnboundMessageSerializer, Flannel.Actors" = 1
            "Flannel.Actors.Serialization.BootstrapProbeSerializer, Flannel.Actors" = 4721
          }
        }
        """;

    public static Config Default { get; } = ConfigurationFactory.ParseString(Hocon);
}
