using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Flannel.Actors.Cmd;

namespace Flannel.Host.Ctl;

/// <summary>Talks to a command host: one connection per request, responses read line by line.</summary>
public static class CtlClient
{
    /// <summary>
    /// Sends <paramref name="request"/> and yields the response lines until the host closes the connection
    /// (or <paramref name="ct"/> is cancelled, which is how `cluster tail` ends). Connection problems surface as
    /// <see cref="CtlUnavailableException"/> with the message the operator sees.
    /// </summary>
    public static async IAsyncEnumerable<CtlWire.WireResponse> SendAsync(
        EndPoint host, CmdRequest request, TimeSpan timeout, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var socket = host is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            connect.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(host, connect.Token);
            }
            catch (SocketException e)
            {
                throw new CtlUnavailableException($"no flanneld command host at {Show(host)} ({Reason(host, e)})");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new CtlUnavailableException($"no flanneld command host at {Show(host)} (no answer within {timeout.TotalSeconds:0} s)");
            }
        }
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var payload = Encoding.UTF8.GetBytes(CtlWire.Request(request) + "\n");
        try
        {
            await stream.WriteAsync(payload, ct);
        }
        catch (IOException)
        {
            // A host that refuses the connection (not root, too many connections) answers and closes before it reads:
            // the request cannot be written, but the answer is waiting to be read below.
        }
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        var streaming = CmdPalettes.IsStreaming(request);
        while (true)
        {
            string? line;
            using (var read = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                // A streaming command may be silent for a long time; an ordinary one must answer within the timeout.
                if (!streaming) read.CancelAfter(timeout);
                try
                {
                    line = await reader.ReadLineAsync(read.Token);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    yield break;
                }
                catch (OperationCanceledException)
                {
                    throw new CtlUnavailableException($"the command host at {Show(host)} did not answer within {timeout.TotalSeconds:0} s");
                }
                catch (IOException e)
                {
                    throw new CtlUnavailableException($"connection to {Show(host)} broke: {e.Message}");
                }
            }
            if (line is null) yield break;
            CtlWire.WireResponse response;
            try
            {
                response = CtlWire.ParseResponse(line);
            }
            catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
            {
                throw new CtlUnavailableException($"{Show(host)} does not speak the flanneld command protocol: {e.Message}");
            }
            yield return response;
        }
    }

    public static string Show(EndPoint host) => host switch
    {
        DnsEndPoint d => $"{d.Host}:{d.Port}",
        _ => host.ToString() ?? "?",
    };

    private static string Reason(EndPoint host, SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AccessDenied => "permission denied: flanneld ctl must run as root",
        // .NET reports a Unix socket path that does not exist (ENOENT) as AddressNotAvailable.
        SocketError.AddressNotAvailable when host is UnixDomainSocketEndPoint => "no such socket; is flanneld running with this --cmd-socket?",
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "timed out",
        SocketError.HostNotFound or SocketError.NoData => "host not found",
        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "unreachable",
        _ => e.Message,
    };
}

/// <summary>No command host answered as it should; the message is shown to the operator as is.</summary>
public sealed class CtlUnavailableException(string message) : Exception(message);
