using Flannel.Demo;

namespace Flannel.MiniKubelet;

/// <summary>
/// The podman command line as this machine needs it (../shared/notes/containers.md): the runc runtime (crun refuses the
/// hybrid cgroup layout) and rlimits within the sandbox's hard limits (podman's defaults exceed them).
/// </summary>
public static class Podman
{
    public static readonly string[] Global = ["--runtime", "runc"];
    public static readonly string[] RunLimits = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"];

    /// <summary>
    /// The mount namespace podman runs in, when the caller's is not the machine's: a kubelet started with `ip netns exec`
    /// (to reach the API server in the underlay namespace) sees a private /sys without the cgroup mounts, where runc
    /// fails with "no cgroup mount found in mountinfo". Null: the caller's own.
    /// </summary>
    public static string? MountNamespace { get; set; }

    public static ProcessRunner.Result Run(IEnumerable<string> args, TimeSpan? timeout = null) =>
        MountNamespace is { } mnt
            ? ProcessRunner.Run("nsenter", [$"--mount={mnt}", "--", "podman", .. Global, .. args], timeout ?? TimeSpan.FromMinutes(2))
            : ProcessRunner.Run("podman", Global.Concat(args), timeout ?? TimeSpan.FromMinutes(2));

    public static string Check(params string[] args)
    {
        var r = Run(args);
        if (!r.Ok) throw new InvalidOperationException($"podman {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr.Trim()}");
        return r.Stdout;
    }

    /// <summary>Null when this machine can run containers (podman and runc installed, root); else why not.</summary>
    public static string? CannotRunContainers()
    {
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root" && !IsRoot())
            return "not root (rootful podman runs the DaemonSet's hostNetwork pods in namespace hosts)";
        foreach (var tool in new[] { "podman", "runc" })
        {
            try
            {
                if (!ProcessRunner.Run(tool, ["--version"], TimeSpan.FromSeconds(20)).Ok) return $"{tool} --version failed";
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return $"{tool} is not installed (scripts/prereqs.sh installs it)";
            }
        }
        return null;
    }

    private static bool IsRoot() => File.Exists("/proc/self/status") &&
        File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");

    public static bool ImageExists(string image) => Run(["image", "exists", image]).Ok;

    /// <summary>Removes every container with the label (all of them started by one kubelet).</summary>
    public static void RemoveLabelled(string label)
    {
        var ids = Run(["ps", "-a", "-q", "--filter", $"label={label}"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length > 0) Run(["rm", "-f", "-t", "5", .. ids]);
    }
}
