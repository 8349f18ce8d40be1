using Flannel.Demo;
using Flannel.MiniKubelet;
using k8s;
using k8s.Models;

namespace Flannel.E2E.Image;

/// <summary>
/// What the image tests share: deploy/kube-flannel.yml as typed objects, the image it names (built by
/// deploy/build-image.sh when podman's store does not have it), where the minimal kubelet is, and whether this machine
/// can run containers at all (the only reason these tests skip).
/// </summary>
public static class ImageEnvironment
{
    private static readonly object Gate = new();
    private static string? _buildFailure;
    private static bool _built;

    public static readonly IReadOnlyList<object> Manifest = KubernetesYaml.LoadAllFromString(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "deploy", "kube-flannel.yml")));

    public static V1DaemonSet DaemonSet => Manifest.OfType<V1DaemonSet>().Single();
    public static V1ConfigMap ConfigMap => Manifest.OfType<V1ConfigMap>().Single();

    /// <summary>Every container of the DaemonSet, init containers first.</summary>
    public static IEnumerable<V1Container> Containers => (DaemonSet.Spec.Template.Spec.InitContainers ?? []).Concat(DaemonSet.Spec.Template.Spec.Containers);

    /// <summary>The image the manifest runs (one for all its containers).</summary>
    public static string ImageName => Containers.Select(c => c.Image).Distinct().Single();

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Flannel.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("repository root (Flannel.sln) not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>mini-kubelet of this test run's configuration (the project reference builds it first).</summary>
    public static string MiniKubelet
    {
        get
        {
            var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            return Path.Combine(RepoRoot, "tests", "Flannel.MiniKubelet", "bin", config, "net10.0", "mini-kubelet");
        }
    }

    /// <summary>
    /// Skips the calling test, printing why, when <paramref name="cannotRunContainers"/> holds a reason. Issue #16 allows
    /// this one skip: the image tests need root, podman, runc and buildah. test.sh prints skips apart from passes and fails
    /// the run on any skip under CI, where containers must run.
    /// </summary>
    public static void SkipUnlessContainers(string? cannotRunContainers, Xunit.Abstractions.ITestOutputHelper output)
    {
        if (cannotRunContainers is not null) output.WriteLine($"skipped: this machine cannot run containers: {cannotRunContainers}");
        Xunit.Skip.If(cannotRunContainers is not null, $"this machine cannot run containers: {cannotRunContainers}");
    }

    /// <summary>Null when containers can run here (root, podman, runc, buildah); else why not: the tests then skip with it.</summary>
    public static string? CannotRunContainers()
    {
        if (Podman.CannotRunContainers() is { } why) return why;
        try
        {
            return ProcessRunner.Run("buildah", ["--version"], TimeSpan.FromSeconds(20)).Ok ? null : "buildah --version failed";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "buildah is not installed (scripts/prereqs.sh installs it)";
        }
    }

    /// <summary>
    /// Makes sure podman's store has the manifest's image: test.sh and demo.sh build it with deploy/build-image.sh; a test
    /// run without it builds it here once (a few minutes from a warm cache). Throws with the script's output on failure.
    /// </summary>
    public static void EnsureImage()
    {
        lock (Gate)
        {
            if (_buildFailure is not null) throw new InvalidOperationException(_buildFailure);
            if (_built || Podman.ImageExists(ImageName)) { _built = true; return; }
            var r = ProcessRunner.Run(Path.Combine(RepoRoot, "deploy", "build-image.sh"), [], TimeSpan.FromMinutes(15));
            if (!r.Ok || !Podman.ImageExists(ImageName))
            {
                _buildFailure = $"deploy/build-image.sh exited {r.ExitCode}: {r.Stderr.Trim()} {r.Stdout.Trim()}";
                throw new InvalidOperationException(_buildFailure);
            }
            _built = true;
        }
    }
}
