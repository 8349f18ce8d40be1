using System.Diagnostics;
using System.Text;
using Flannel.Demo;
using Flannel.Testing;

namespace Flannel.E2E.Cni;

/// <summary>
/// Calls the `flannel` plugin the way a container runtime does: from the host's network namespace, CNI_* variables in the
/// environment, the network config on stdin, CNI_PATH holding flannel next to the standard plugins.
/// </summary>
public sealed class CniRuntime : IDisposable
{
    public const string StandardPlugins = "/usr/lib/cni";
    private readonly Netns _host;

    /// <summary>A directory holding only `flannel` (the native plugin from src/Flannel.Cni), searched before /usr/lib/cni.</summary>
    public string PluginDir { get; }
    public string CniPath => $"{PluginDir}:{StandardPlugins}";

    public CniRuntime(Netns host, string workDir)
    {
        _host = host;
        PluginDir = Path.Combine(workDir, "cni-bin");
        Directory.CreateDirectory(PluginDir);
        // Runtimes exec <CNI_PATH>/flannel; the symlink keeps the binary under test the one that was just published.
        File.CreateSymbolicLink(Path.Combine(PluginDir, "flannel"), CniPluginBinary.Locate());
    }

    public sealed record Call(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    public Call Invoke(string command, string config, string containerId, string? podNetns, string ifName = "eth0")
    {
        var env = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = containerId,
            ["CNI_IFNAME"] = ifName,
            ["CNI_PATH"] = CniPath,
            // As containerd/cri-o do: IgnoreUnknown lets plugins skip the Kubernetes keys they do not know.
            ["CNI_ARGS"] = $"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME={containerId}",
        };
        if (podNetns != null) env["CNI_NETNS"] = podNetns;

        var sw = Stopwatch.StartNew();
        var r = Netns.Exec(_host.Name, Path.Combine(PluginDir, "flannel"), [], TimeSpan.FromSeconds(60), stdin: config, env: env);
        if (r.ExitCode == ProcessRunner.TimedOut) throw new TimeoutException($"CNI {command} for {containerId} did not finish within 60 s");
        return new Call(r.ExitCode, r.Stdout, r.Stderr, sw.Elapsed);
    }

    public void Dispose()
    {
        try { Directory.Delete(PluginDir, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    public static string Describe(Call c) =>
        new StringBuilder().Append("exit ").Append(c.ExitCode).Append("\nstdout: ").Append(c.Stdout).Append("\nstderr: ").Append(c.Stderr).ToString();
}
