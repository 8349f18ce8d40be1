using System.Net.Sockets;

namespace Flannel.Actors.Node;

/// <summary>
/// Recognizes, in the cause of Akka.Remote's <c>AssociationErrorEvent</c>, an outbound connection that the peer's host
/// refused (ECONNREFUSED). Akka.Remote 1.5.73 (TcpTransport.HandleConnectException) reports exactly that case as an
/// association failure without an inner exception whose message is the socket error's text, a space and the remote
/// address; every other connect failure carries an inner exception ("Association failed with ..."). Akka offers no
/// typed signal for it; a test pins the text against a real refused association, so an upgrade that changes it fails
/// loudly (and until then a change could only make the first seed wait as long as before, never form sooner).
/// </summary>
public static class RefusedAssociation
{
    /// <summary>The socket error's text for ECONNREFUSED on this platform ("Connection refused" on Linux).</summary>
    public static string RefusedText { get; } = new SocketException((int)SocketError.ConnectionRefused).Message;

    public static bool Is(Exception? cause) =>
        cause is { InnerException: null } && cause.Message.StartsWith(RefusedText + " ", StringComparison.Ordinal);
}
