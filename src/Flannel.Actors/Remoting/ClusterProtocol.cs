namespace Flannel.Actors.Remoting;

/// <summary>
/// The Akka address protocol of a flannel cluster. Akka.Remote names it after the transport: "akka.tcp" in plain text,
/// "akka.ssl.tcp" with TLS; a join or seed address with the other protocol is silently ignored by Akka ("Trying to join
/// member with wrong protocol"), so every address flannel builds takes the protocol from here or from the running
/// system's own address (<c>Cluster.SelfAddress.Protocol</c>), never from a literal.
/// </summary>
public static class ClusterProtocol
{
    public const string Plain = "akka.tcp";
    public const string Tls = "akka.ssl.tcp";

    public static string For(bool tls) => tls ? Tls : Plain;
}
