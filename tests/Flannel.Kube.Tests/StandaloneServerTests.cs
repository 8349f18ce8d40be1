using Flannel.Demo;
using System.Diagnostics;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>The server as the demo runs it: its own process, seeded from a YAML file, kubeconfig written for kubectl.</summary>
public sealed class StandaloneServerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kube-test-server-").FullName;
    private Process? _process;

    [Fact]
    public async Task Starts_from_a_state_file_and_serves_kubectl()
    {
        var state = Path.Combine(_dir, "state.yaml");
        File.WriteAllText(state, """
            apiVersion: v1
            kind: Node
            metadata: {name: demo-1}
            spec: {podCIDR: 10.244.1.0/24}
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: demo-2}
            spec: {podCIDR: 10.244.2.0/24}
            """);
        var kubeconfig = Path.Combine(_dir, "kubeconfig");
        var exe = Path.Combine(AppContext.BaseDirectory, "kube-test-server.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { exe, "--port", "0", "--state", state, "--kubeconfig", kubeconfig }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        var firstLine = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("listening http://127.0.0.1:", firstLine);

        var kubectl = ProcessRunner.Run("kubectl",
            ["--kubeconfig", kubeconfig, "--cache-dir", Path.Combine(_dir, "cache"), "get", "nodes", "-o", "jsonpath={.items[*].spec.podCIDR}"],
            TimeSpan.FromSeconds(30));
        Assert.True(kubectl.Ok, kubectl.Stderr);
        var output = kubectl.Stdout;
        Assert.Equal("10.244.1.0/24 10.244.2.0/24", output.Trim());
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
        _process?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
