namespace Flannel.Net.Files;

/// <summary>
/// Replaces a file so that after a crash or power loss it holds either the old or the new content, never a mix: write a
/// temp file in the same directory, fsync it, rename it over the target, fsync the directory (the rename itself).
/// </summary>
public static class AtomicFile
{
    /// <summary>0600: the default, for state only root reads (the lease store).</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static int _counter;

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> with <paramref name="mode"/> (0600 unless given; a
    /// missing directory is created with the same readers, 0700 or 0755).</summary>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = OwnerOnly)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) Directory.CreateDirectory(dir, DirectoryModeFor(mode));
        // Unique per writer: two actor systems of one process (a restart) or two processes never share a temp file.
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Interlocked.Increment(ref _counter)}.tmp");
        try
        {
            using (var f = new FileStream(tmp, new FileStreamOptions
                   {
                       Mode = System.IO.FileMode.CreateNew,
                       Access = FileAccess.Write,
                       UnixCreateMode = mode,
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

    /// <summary>Whoever may read the file may enter its directory.</summary>
    private static UnixFileMode DirectoryModeFor(UnixFileMode mode) =>
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | ((mode & UnixFileMode.GroupRead) != 0 ? UnixFileMode.GroupRead | UnixFileMode.GroupExecute : 0)
        | ((mode & UnixFileMode.OtherRead) != 0 ? UnixFileMode.OtherRead | UnixFileMode.OtherExecute : 0);

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
