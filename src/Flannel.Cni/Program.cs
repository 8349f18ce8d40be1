namespace Flannel.Cni;

public static class Program
{
    /// <summary>The runtime sets CNI_COMMAND and the other CNI_* variables and writes the network config on stdin.</summary>
    public static int Main() =>
        CniPlugin.Run(Console.OpenStandardInput(), Console.OpenStandardOutput(), Console.Error, CniEnvironment.FromProcess());
}
