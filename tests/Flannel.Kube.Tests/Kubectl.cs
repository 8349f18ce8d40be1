using System.Diagnostics;
using Flannel.Kube.TestServer;

namespace Flannel.Kube.Tests;

/// <summary>Runs the installed kubectl against a test server with its own kubeconfig and discovery cache.</summary>
public sealed class Kubectl : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kubectl-").FullName;
    private readonly string _kubeconfig;

    public Kubectl(KubeTestServer server)
    {
        _kubeconfig = server.WriteKubeconfig(Path.Combine(_dir, "kubeconfig"));
    }

    public string KubeconfigPath => _kubeconfig;

    /// <summary>Runs kubectl; throws with its stderr on a non-zero exit.</summary>
    public string Run(params string[] args)
    {
        var (code, stdout, stderr) = TryRun(null, args);
        if (code != 0) throw new InvalidOperationException($"kubectl {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    public (int ExitCode, string Stdout, string Stderr) TryRun(IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("kubectl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--kubeconfig");
        psi.ArgumentList.Add(_kubeconfig);
        psi.ArgumentList.Add("--cache-dir");
        psi.ArgumentList.Add(Path.Combine(_dir, "cache"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = _dir;
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish in 60 s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
