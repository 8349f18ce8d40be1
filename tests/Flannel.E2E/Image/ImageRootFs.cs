using Flannel.MiniKubelet;
using Xunit;

namespace Flannel.E2E.Image;

/// <summary>The built image's file system, mounted read-only from podman's store for the length of the test class.</summary>
public sealed class ImageRootFs : IDisposable
{
    public ImageRootFs()
    {
        Skip = ImageEnvironment.CannotRunContainers();
        if (Skip is not null) return;
        ImageEnvironment.EnsureImage();
        Path = Podman.Check("image", "mount", ImageEnvironment.ImageName).Trim();
        if (!Directory.Exists(Path)) throw new InvalidOperationException($"podman image mount gave {Path}, which is not a directory");
    }

    /// <summary>Why the tests skip; null when they run.</summary>
    public string? Skip { get; }

    public string Path { get; } = "";

    /// <summary>
    /// Resolves <paramref name="path"/> inside the image (symbolic links, absolute or relative, followed within the
    /// image's root, not the machine's); null when it does not exist.
    /// </summary>
    public string? Resolve(string path)
    {
        var parts = new Queue<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var current = "/";
        for (var hops = 0; parts.Count > 0; hops++)
        {
            if (hops > 64) throw new InvalidOperationException($"too many symbolic links resolving {path} in the image");
            var part = parts.Dequeue();
            var next = part == ".." ? System.IO.Path.GetDirectoryName(current.TrimEnd('/')) ?? "/" : System.IO.Path.Combine(current, part);
            var onDisk = Path + next;
            var info = new FileInfo(onDisk);
            if (info.LinkTarget is { } target)
            {
                var rest = parts.ToList();
                parts = new Queue<string>(target.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest));
                if (target.StartsWith('/')) current = "/";
                continue;
            }
            if (!info.Exists && !Directory.Exists(onDisk)) return null;
            current = next;
        }
        return Path + current;
    }

    public void Dispose()
    {
        if (Skip is null) Podman.Run(["image", "unmount", ImageEnvironment.ImageName]);
    }
}
