using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Flannel.MiniKubelet;
using k8s.Models;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Image;

/// <summary>
/// deploy/kube-flannel.yml and the image deploy/build-image.sh builds agree: every command, path, flag, environment
/// variable and port the manifest names is read from the image itself (its mounted file system, its flanneld, its
/// config), never from a list kept by hand. Skipped only when this machine cannot run containers.
/// </summary>
public sealed partial class ManifestImageTests(ImageRootFs image, ITestOutputHelper output) : IClassFixture<ImageRootFs>
{
    private static readonly string[] SearchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    private void SkipUnlessContainers() => ImageEnvironment.SkipUnlessContainers(image.Skip, output);

    private static V1Container Agent => Assert.Single(ImageEnvironment.DaemonSet.Spec.Template.Spec.Containers);

    private bool IsExecutableFile(string path) =>
        image.Resolve(path) is { } p && File.Exists(p) && (File.GetUnixFileMode(p) & UnixFileMode.UserExecute) != 0;

    [SkippableFact]
    public void Every_container_command_is_an_executable_in_the_image()
    {
        SkipUnlessContainers();
        foreach (var c in ImageEnvironment.Containers)
        {
            Assert.Equal(ImageEnvironment.ImageName, c.Image);
            var command = Assert.Single(c.Command.Take(1));
            Assert.True(IsExecutableFile(command), $"{c.Name}: command {command} is not an executable file in the image");
        }
        // The image's own entrypoint is the agent (docker run / podman run without a command start flanneld).
        var config = JsonNode.Parse(Podman.Check("image", "inspect", ImageEnvironment.ImageName))![0]!["Config"]!;
        Assert.Equal(Agent.Command[0], config["Entrypoint"]![0]!.GetValue<string>());
    }

    [SkippableFact]
    public void Init_container_scripts_use_commands_of_the_image_and_paths_the_image_or_a_mount_provides()
    {
        SkipUnlessContainers();
        var spec = ImageEnvironment.DaemonSet.Spec.Template.Spec;
        foreach (var c in spec.InitContainers)
        {
            Assert.Equal(["/bin/sh", "-c"], c.Command);
            var script = Assert.Single(c.Args);
            foreach (var step in script.Split("&&", StringSplitOptions.TrimEntries))
            {
                var words = step.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.True(SearchPath.Any(d => IsExecutableFile($"{d}/{words[0]}")), $"{c.Name}: `{words[0]}` is not a command in the image");
                foreach (var path in words.Skip(1).Where(w => w.StartsWith('/')))
                {
                    var mount = c.VolumeMounts.FirstOrDefault(m => path.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal));
                    if (mount is null)
                    {
                        Assert.True(image.Resolve(path) is { } p && File.Exists(p), $"{c.Name}: {path} is neither in the image nor under a mount");
                        continue;
                    }
                    // A file read from the ConfigMap mount must be one of its keys; anything else is written there.
                    var volume = spec.Volumes.Single(v => v.Name == mount.Name);
                    var relative = path[(mount.MountPath.TrimEnd('/').Length + 1)..];
                    if (volume.ConfigMap is not null)
                        Assert.Contains(relative, ImageEnvironment.ConfigMap.Data.Keys);
                    else
                        Assert.NotNull(volume.HostPath);
                }
            }
        }
    }

    [SkippableFact]
    public void Every_agent_flag_is_one_the_image_flanneld_knows_and_its_files_come_from_the_mounts()
    {
        SkipUnlessContainers();
        var help = Podman.Run(["run", "--rm", "--network", "none", .. Podman.RunLimits, "--entrypoint", Agent.Command[0], ImageEnvironment.ImageName, "--help"]);
        Assert.True(help.Ok, help.Stderr);
        var spec = ImageEnvironment.DaemonSet.Spec.Template.Spec;
        foreach (var arg in Agent.Args)
        {
            var flag = arg.Split('=')[0];
            Assert.Matches(@"^--[a-z-]+$", flag);
            Assert.Contains(flag, help.Stdout + help.Stderr);
            if (arg.Contains('=') && arg.Split('=', 2)[1] is { } value && value.StartsWith('/'))
            {
                var mount = Assert.Single(Agent.VolumeMounts, m => value.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal));
                var relative = value[(mount.MountPath.TrimEnd('/').Length + 1)..];
                var projected = spec.Volumes.Single(v => v.Name == mount.Name).Projected;
                Assert.NotNull(projected);
                Assert.Contains(relative, projected.Sources.SelectMany(s => s.Secret?.Items ?? []).Select(i => i.Path));
            }
        }
    }

    [SkippableFact]
    public void The_tools_the_agent_runs_for_ip_masq_run_in_the_image()
    {
        SkipUnlessContainers();
        Assert.Contains("--ip-masq", Agent.Args);
        // The agent's masquerade drives these (src/Flannel.Net/Masq): each must start, libraries and all.
        foreach (var tool in new[] { "iptables-restore", "iptables-save", "nft" })
        {
            var r = Podman.Run(["run", "--rm", "--network", "none", .. Podman.RunLimits, "--entrypoint", tool, ImageEnvironment.ImageName, "--version"]);
            Assert.True(r.Ok, $"{tool} --version in the image exited {r.ExitCode}: {r.Stderr}");
            output.WriteLine($"{tool}: {r.Stdout.Trim()}");
        }
    }

    [SkippableFact]
    public void The_env_vars_and_the_health_port_the_manifest_names_are_read_by_the_image_flanneld()
    {
        SkipUnlessContainers();
        var binary = File.ReadAllBytes(image.Resolve(Agent.Command[0])!);
        // Managed string literals are UTF-16 in the single-file bundle's assemblies.
        bool Has(string literal) => binary.AsSpan().IndexOf(Encoding.Unicode.GetBytes(literal)) >= 0;
        foreach (var e in Agent.Env) Assert.True(Has(e.Name), $"flanneld in the image never reads {e.Name}");

        var port = Assert.Single(Agent.Ports);
        Assert.Contains($"--healthz-port={port.ContainerPort}", Agent.Args);
        foreach (var probe in new[] { Agent.LivenessProbe, Agent.ReadinessProbe })
        {
            Assert.Equal(port.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), probe.HttpGet.Port.Value);
            Assert.True(Has(probe.HttpGet.Path), $"flanneld in the image serves no {probe.HttpGet.Path}");
        }
    }

    [SkippableFact]
    public void The_image_is_within_its_size_goal()
    {
        SkipUnlessContainers();
        var size = long.Parse(Podman.Check("image", "inspect", "--format", "{{.Size}}", ImageEnvironment.ImageName).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        output.WriteLine($"{ImageEnvironment.ImageName}: {size / 1048576.0:0.0} MiB");
        Assert.InRange(size, 1, 120L * 1024 * 1024);
    }
}
