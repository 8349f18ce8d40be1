using Flannel.Demo;
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
        var environment = new Dictionary<string, string> { ["HOME"] = _dir };
        if (env is not null) foreach (var (k, v) in env) environment[k] = v;
        var r = ProcessRunner.Run("kubectl", ["--kubeconfig", _kubeconfig, "--cache-dir", Path.Combine(_dir, "cache"), .. args],
            TimeSpan.FromSeconds(60), env: environment);
        if (r.ExitCode == ProcessRunner.TimedOut) throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish in 60 s");
        return (r.ExitCode, r.Stdout, r.Stderr);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
