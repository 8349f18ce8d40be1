namespace Flannel.Host.Security;

/// <summary>How this node's cluster transport runs, decided from the flags before anything starts.</summary>
public enum ClusterTransportMode
{
    /// <summary>Mutual TLS with the cluster CA: the only way to form a cluster of several nodes by default.</summary>
    Tls,

    /// <summary>No TLS and nobody else to join: remoting bound to loopback, so nobody can join this cluster of one.</summary>
    LocalOnly,

    /// <summary>--cluster-insecure: plain text on the cluster address, as before TLS existed (warned at every start).</summary>
    Insecure,

    /// <summary>Would join other nodes in plain text without --cluster-insecure: flanneld refuses to start.</summary>
    Refuse,
}

/// <summary>The secure default (threat T1): no plain-text cluster of several nodes unless the operator says so.</summary>
public static class ClusterTransportPolicy
{
    public const string LoopbackHost = "127.0.0.1";

    /// <param name="tls">--cluster-tls-cert/-key/-ca are given.</param>
    /// <param name="insecure">--cluster-insecure.</param>
    /// <param name="joinsOthers">Seeds other than this node, or Kubernetes seed discovery.</param>
    public static ClusterTransportMode Decide(bool tls, bool insecure, bool joinsOthers) =>
        (tls, insecure, joinsOthers) switch
        {
            (true, _, _) => ClusterTransportMode.Tls,
            (false, true, _) => ClusterTransportMode.Insecure,
            (false, false, false) => ClusterTransportMode.LocalOnly,
            (false, false, true) => ClusterTransportMode.Refuse,
        };

    /// <summary>Why flanneld will not start in <see cref="ClusterTransportMode.Refuse"/>.</summary>
    public static string RefusalMessage(int clusterPort, bool kubeDiscovery) =>
        $"refusing to {(kubeDiscovery ? "join the agents found through the Kubernetes API" : "join --cluster-seeds")} without TLS: " +
        $"anyone who reaches port {clusterPort} could join the cluster and rewrite leases and routes. Give " +
        $"{ClusterTls.CertFlag}, {ClusterTls.KeyFlag} and {ClusterTls.CaFlag} (create them with `flanneld certs`), " +
        "or --cluster-insecure to run the cluster in plain text anyway";
}
