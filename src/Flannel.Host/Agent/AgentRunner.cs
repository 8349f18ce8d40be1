using Flannel.Host.Options;

namespace Flannel.Host.Agent;

/// <summary>Runs the flanneld agent. Placeholder until the agent host lands; it replaces this file.</summary>
public static class AgentRunner
{
    public static Task<int> RunAsync(FlanneldOptions options, CancellationToken ct)
    {
        Console.Error.WriteLine("flanneld: the agent is not available in this build");
        return Task.FromResult(1);
    }
}
