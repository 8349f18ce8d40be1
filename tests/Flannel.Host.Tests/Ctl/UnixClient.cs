using System.Net.Sockets;
using System.Text;
using Flannel.Host.Ctl;

namespace Flannel.Host.Tests.Ctl;

/// <summary>A raw client of a command host's Unix socket, for tests that must misbehave (hold, stay silent, overflow).</summary>
public sealed class UnixClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    private UnixClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public static async Task<UnixClient> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            return new UnixClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Task SendAsync(string text) => _stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

    /// <summary>The next line, or null at end of stream; throws <see cref="TimeoutException"/> when none comes in time.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await _reader.ReadLineAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no line from the command host within {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds} s");
        }
    }

    /// <summary>The next line parsed as a response; fails the test when the host closed without one.</summary>
    public async Task<CtlWire.WireResponse> ReadResponseAsync(TimeSpan? timeout = null) =>
        CtlWire.ParseResponse(await ReadLineAsync(timeout) ?? throw new InvalidOperationException("the host closed without an answer"));

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
