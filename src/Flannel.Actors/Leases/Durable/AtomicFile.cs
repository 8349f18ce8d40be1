namespace Flannel.Actors.Leases.Durable;

/// <summary>
/// Replaces a file so that after a crash or power loss it holds either the old or the new content, never a mix: write a
/// temp file in the same directory, fsync it, rename it over the target, fsync the directory (the rename itself).
/// </summary>
public static class AtomicFile
{
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static int _counter;

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> (mode 0600; a missing directory is created 0700).</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) Directory.CreateDirectory(dir, DirectoryMode);
        // Unique per writer: two actor systems of one process (a restart) or two processes never share a temp file.
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Interlocked.Increment(ref _counter)}.tmp");
        try
        {
            using (var f = new FileStream(tmp, new FileStreamOptions
                   {
                       Mode = System.IO.FileMode.CreateNew,
                       Access = FileAccess.Write,
                       UnixCreateMode = FileMode,
                   }))
            {
                f.Write(content);
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
            SyncDirectory(dir);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>fsync of the directory: makes a rename in it durable.</summary>
    private static unsafe void SyncDirectory(string dir)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(dir + "\0");
        int fd;
        fixed (byte* p = name)
            fd = Tmds.Linux.LibC.open(p, Tmds.Linux.LibC.O_RDONLY | Tmds.Linux.LibC.O_DIRECTORY | Tmds.Linux.LibC.O_CLOEXEC);
        if (fd < 0) throw new IOException($"cannot open directory {dir} to sync it (errno {Tmds.Linux.LibC.errno})");
        try
        {
            if (Tmds.Linux.LibC.fsync(fd) != 0)
                throw new IOException($"fsync of directory {dir} failed (errno {Tmds.Linux.LibC.errno})");
        }
        finally
        {
            Tmds.Linux.LibC.close(fd);
        }
    }
}
