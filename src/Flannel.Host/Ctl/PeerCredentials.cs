using System.Net.Sockets;

namespace Flannel.Host.Ctl;

/// <summary>
/// Who is at the other end of a connected Unix socket, as the kernel recorded it at connect time (SO_PEERCRED,
/// struct ucred { pid_t pid; uid_t uid; gid_t gid; }): the client cannot lie about it.
/// </summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1, SoPeerCred = 17, UcredSize = 12;

    /// <summary>The peer of <paramref name="socket"/>, or null when the kernel does not say (not a Unix socket).</summary>
    public static PeerCredentials? Read(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[UcredSize];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) != UcredSize) return null;
        }
        catch (SocketException)
        {
            return null;
        }
        return new PeerCredentials(
            BitConverter.ToInt32(ucred[..4]), BitConverter.ToUInt32(ucred[4..8]), BitConverter.ToUInt32(ucred[8..12]));
    }

    public override string ToString() => $"uid {Uid} pid {Pid}";
}

/// <summary>Who may use the command host's Unix socket: root only (T2: no non-root process runs `flanneld ctl`).</summary>
public static class CommandPeerPolicy
{
    /// <summary>The refusal the peer is told, or null when it is served.</summary>
    public static string? Refusal(PeerCredentials? peer) => peer switch
    {
        null => "permission denied: the command host cannot tell who is connecting (no SO_PEERCRED); only root may run flanneld ctl",
        { Uid: 0 } => null,
        { } p => $"permission denied: uid {p.Uid} is not root; only root may run flanneld ctl",
    };
}
