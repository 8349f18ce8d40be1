using System.Text;

namespace Flannel.Cni;

/// <summary>
/// The rendered delegate config per container (&lt;dataDir&gt;/&lt;containerID&gt;, 0600): written on ADD so that DEL
/// replays exactly what ADD used, even if subnet.env or the flannel config changed in between.
/// </summary>
public static class ScratchStore
{
    public static string PathFor(string dataDir, string containerId) => System.IO.Path.Combine(dataDir, containerId);

    public static void Save(string dataDir, string containerId, string delegateJson)
    {
        Directory.CreateDirectory(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = PathFor(dataDir, containerId);
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var stream = new FileStream(path, options))
            stream.Write(Encoding.UTF8.GetBytes(delegateJson));
        // UnixCreateMode only applies to new files; an existing one (ADD retried) keeps 0600 explicitly.
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>The stored config, or null when there is none (already deleted, or ADD never ran).</summary>
    public static byte[]? Load(string dataDir, string containerId)
    {
        try { return File.ReadAllBytes(PathFor(dataDir, containerId)); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    public static void Remove(string dataDir, string containerId) => File.Delete(PathFor(dataDir, containerId));
}
