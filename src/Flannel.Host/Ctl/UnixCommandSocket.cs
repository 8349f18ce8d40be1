using System.Net.Sockets;
using System.Text;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Ctl;

/// <summary>
/// The command host's Unix socket file (`--cmd-socket`, default /run/flannel/flanneld.sock): created mode 0600 with no
/// moment at which it is more open, in a parent directory created 0755 when missing; a stale socket of an earlier run is
/// replaced, a live one (another flanneld) or any other kind of file is refused; removed again on dispose.
/// </summary>
public sealed class UnixCommandSocket : IDisposable
{
    public const string DefaultPath = "/run/flannel/flanneld.sock";

    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    // 0755 as flannel makes /run/flannel (it also holds subnet.env, world-readable upstream); the socket's own 0600
    // is what guards the command host.
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                                               | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
                                               | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly ulong _inode;
    private bool _disposed;

    private UnixCommandSocket(string path, Socket listener, ulong inode)
    {
        Path = path;
        Listener = listener;
        _inode = inode;
    }

    public string Path { get; }

    /// <summary>The listening socket; accept from it.</summary>
    public Socket Listener { get; }

    /// <summary>Throws <see cref="CommandHostException"/> naming --cmd-socket when the path cannot be served.</summary>
    public static UnixCommandSocket Bind(string path, ILogger logger, int backlog = 16)
    {
        Validate(path);
        var directory = System.IO.Path.GetDirectoryName(path)!;
        try
        {
            // Created 0755 (all missing levels); an existing directory keeps its mode.
            if (!Directory.Exists(directory)) Directory.CreateDirectory(directory, DirectoryMode);
            RemoveStale(path, logger);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CommandHostException($"--cmd-socket {path}: {e.Message}", e);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // Mode 0600 from birth: Linux creates the socket file with the mode of the socket's inode minus the umask,
            // so fchmod before bind leaves no window in which another user could connect (bind-then-chmod has one
            // whenever the umask is looser than 077, e.g. 0 in many containers). No chmod follows: a stricter umask
            // can only remove bits, and root, the only user served, is not held back by the file mode.
            UnixSocketFile.ChmodBeforeBind(socket, SocketMode);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(backlog);
            var (_, inode) = UnixSocketFile.Inspect(path);
            return new UnixCommandSocket(path, socket, inode);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new CommandHostException($"--cmd-socket {path}: cannot listen: {e.Message} (--cmd-socket \"\" disables it)", e);
        }
    }

    /// <summary>An absolute path that fits sockaddr_un; throws <see cref="CommandHostException"/> naming the flag.</summary>
    public static void Validate(string path)
    {
        if (PathProblem(path) is { } problem) throw new CommandHostException($"--cmd-socket \"{path}\" {problem}");
    }

    /// <summary>What is wrong with a socket path (completing "--cmd-socket PATH ..."), or null.</summary>
    public static string? PathProblem(string path)
    {
        if (!System.IO.Path.IsPathRooted(path)) return "is not an absolute path";
        if (path.EndsWith('/')) return "names a directory, not a socket file";
        if (Encoding.UTF8.GetByteCount(path) > UnixSocketFile.MaxPathBytes)
            return $"is longer than {UnixSocketFile.MaxPathBytes} bytes (the limit of a Unix socket path)";
        return null;
    }

    private static void RemoveStale(string path, ILogger logger)
    {
        switch (UnixSocketFile.Inspect(path).Kind)
        {
            case UnixSocketFile.Kind.Missing:
                return;
            case UnixSocketFile.Kind.Other:
                throw new CommandHostException($"--cmd-socket {path} exists and is not a socket; refusing to replace it");
        }
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new CommandHostException($"--cmd-socket {path}: another process (a running flanneld?) is serving it");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens: a socket left by a run that was killed.
            }
        }
        File.Delete(path);
        logger.CmdSocketReplaced(path);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // .NET itself unlinks the path a Unix socket was bound to when that socket is disposed; the check below
        // covers a runtime that does not, and removes only our own socket, never a file put there since.
        Listener.Dispose();
        try
        {
            if (UnixSocketFile.Inspect(Path) is (UnixSocketFile.Kind.Socket, var inode) && inode == _inode) File.Delete(Path);
        }
        catch (IOException)
        {
            // The directory went away (a test's temp dir, a tmpfs unmounted at shutdown): nothing left to remove.
        }
    }
}
