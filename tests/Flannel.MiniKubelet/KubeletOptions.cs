namespace Flannel.MiniKubelet;

/// <summary>One node's minimal kubelet: which node, its network namespace and address, its file system root.</summary>
/// <param name="ServiceHost">The API server's HTTPS address as pods see it (KUBERNETES_SERVICE_HOST/PORT).</param>
/// <param name="ServiceCaFile">The API server's CA certificate: the service account's ca.crt.</param>
public sealed record KubeletOptions(string NodeName, string Netns, string NodeIp, string HostRoot, string StateDir,
    string ServiceHost, int ServicePort, string ServiceCaFile)
{
    /// <summary>The label on every container this kubelet starts: its leftovers are found and removed by it.</summary>
    public string Label => $"io.flannel.minikubelet.node={Netns}";
}
