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
    private readonly NetNs _host;

    /// <summary>A directory holding only `flannel` (the native plugin from src/Flannel.Cni), searched before /usr/lib/cni.</summary>
    public string PluginDir { get; }
    public string CniPath => $"{PluginDir}:{StandardPlugins}";

    public CniRuntime(NetNs host, string workDir)
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
        var psi = new ProcessStartInfo("ip", $"netns exec {_host.Name} {Path.Combine(PluginDir, "flannel")}")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["CNI_COMMAND"] = command;
        psi.Environment["CNI_CONTAINERID"] = containerId;
        if (podNetns != null) psi.Environment["CNI_NETNS"] = podNetns;
        psi.Environment["CNI_IFNAME"] = ifName;
        psi.Environment["CNI_PATH"] = CniPath;
        // As containerd/cri-o do: IgnoreUnknown lets plugins skip the Kubernetes keys they do not know.
        psi.Environment["CNI_ARGS"] = $"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME={containerId}";

        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the flannel plugin");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(config);
        p.StandardInput.Close();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"CNI {command} for {containerId} did not finish within 60 s");
        }
        p.WaitForExit();
        return new Call(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult(), sw.Elapsed);
    }

    public void Dispose()
    {
        try { Directory.Delete(PluginDir, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    public static string Describe(Call c) =>
        new StringBuilder().Append("exit ").Append(c.ExitCode).Append("\nstdout: ").Append(c.Stdout).Append("\nstderr: ").Append(c.Stderr).ToString();
}
