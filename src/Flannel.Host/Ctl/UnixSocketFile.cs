using System.Runtime.InteropServices;
using System.Text;

namespace Flannel.Host.Ctl;

/// <summary>
/// The two file-system facts about a Unix socket path that .NET has no API for: what kind of file is there (a socket,
/// or something we must never delete) and its inode (so Dispose removes only the socket this process bound), plus
/// fchmod on a socket before bind. statx is used because its struct layout is the same on every architecture.
/// </summary>
internal static unsafe class UnixSocketFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1, StatxMode = 0x2, StatxIno = 0x100;
    private const int ModeOffset = 28, InoOffset = 32, StatxSize = 256;
    private const int SIfMt = 0xF000, SIfSock = 0xC000;
    private const int ENOENT = 2;

    /// <summary>sun_path is 108 bytes including the terminating NUL.</summary>
    public const int MaxPathBytes = 107;

    public enum Kind { Missing, Socket, Other }

    /// <summary>What is at <paramref name="path"/> (a symlink is <see cref="Kind.Other"/>: never followed).</summary>
    public static (Kind Kind, ulong Inode) Inspect(string path)
    {
        var buf = stackalloc byte[StatxSize];
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        int rc;
        fixed (byte* p = bytes) rc = statx(AtFdCwd, p, AtSymlinkNoFollow, StatxType | StatxMode | StatxIno, buf);
        if (rc != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT) return (Kind.Missing, 0);
            throw new IOException($"cannot stat {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        var mode = *(ushort*)(buf + ModeOffset);
        var inode = *(ulong*)(buf + InoOffset);
        return ((mode & SIfMt) == SIfSock ? Kind.Socket : Kind.Other, inode);
    }

    /// <summary>fchmod on a not yet bound socket: Linux creates the socket file with this mode (minus the umask).</summary>
    public static void ChmodBeforeBind(System.Net.Sockets.Socket socket, UnixFileMode mode)
    {
        if (fchmod((int)socket.Handle, (uint)mode) != 0)
            throw new IOException($"fchmod on the command socket: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int statx(int dirfd, byte* path, int flags, uint mask, byte* buf);

    [DllImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static extern int fchmod(int fd, uint mode);
}
