using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Flannel.Actors.Cmd;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Host.Ctl;

/// <summary>
/// The agent's command host for `flanneld ctl`: TCP on a loopback address only, one JSON request line per
/// connection (see <see cref="CtlWire"/>). The transport only parses and Asks the palette actors.
/// The agent runs with hostNetwork in Kubernetes, so binding any other address would expose node control
/// (cluster down, lease release) to the network: <see cref="Start"/> refuses it.
/// </summary>
public sealed class CommandHost : IAsyncDisposable
{
    public const int DefaultPort = 9110;

    private readonly ActorSystem _system;
    private readonly CmdPalettes _palettes;
    private readonly TcpListener _listener;
    private readonly ILogger _logger;
    private readonly TimeSpan _askTimeout;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly HashSet<Task> _connections = [];

    private CommandHost(ActorSystem system, CmdPalettes palettes, TcpListener listener, ILogger logger, TimeSpan askTimeout)
    {
        _system = system;
        _palettes = palettes;
        _listener = listener;
        _logger = logger;
        _askTimeout = askTimeout;
        Endpoint = (IPEndPoint)listener.LocalEndpoint;
        _acceptLoop = Task.Run(AcceptLoop);
    }

    /// <summary>Where the host listens (the real port when 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }

    public CmdPalettes Palettes => _palettes;

    /// <summary>127.0.0.1:<paramref name="port"/>, the only kind of endpoint the agent uses.</summary>
    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);

    /// <summary>
    /// Starts the palette actors (under /user/cmd) and listens on <paramref name="endpoint"/>, which must be a
    /// loopback address. Throws <see cref="CommandHostException"/> for any other address or when the port is taken.
    /// </summary>
    public static CommandHost Start(ActorSystem system, IPEndPoint endpoint, CmdContext ctx, ILogger? logger = null)
    {
        EnsureLoopback(endpoint);
        logger ??= system.LoggerFactory().CreateLogger("Flannel.Ctl");
        var listener = new TcpListener(endpoint);
        try
        {
            listener.Start(backlog: 16);
        }
        catch (SocketException e)
        {
            throw new CommandHostException($"command host cannot listen on {endpoint}: {e.Message} (set --cmd-port, 0 disables)", e);
        }
        CmdPalettes palettes;
        try
        {
            palettes = CmdPalettes.Start(system, ctx);
        }
        catch
        {
            listener.Stop();
            throw;
        }
        var host = new CommandHost(system, palettes, listener, logger, ctx.SourceTimeout + TimeSpan.FromSeconds(5));
        logger.CmdHostStarted(host.Endpoint.ToString());
        return host;
    }

    /// <summary>Throws <see cref="CommandHostException"/> unless the address is loopback (127.0.0.0/8 or ::1).</summary>
    public static void EnsureLoopback(IPEndPoint endpoint)
    {
        if (!IPAddress.IsLoopback(endpoint.Address))
            throw new CommandHostException(
                $"refusing to serve the command host on {endpoint}: only loopback addresses (127.0.0.1, ::1) are allowed, " +
                "since the agent runs in the host network namespace and any other address would expose node control");
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            // A dispose that stops the listener before this loop first reaches Accept makes it throw "Not listening".
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException ||
                                      (e is InvalidOperationException && _stop.IsCancellationRequested))
            {
                return;
            }
            var task = Task.Run(() => Serve(client));
            lock (_connections) _connections.Add(task);
            _ = task.ContinueWith(t => { lock (_connections) _connections.Remove(t); }, TaskScheduler.Default);
        }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        var remote = client.Client.RemoteEndPoint as IPEndPoint;
        var clientName = remote?.ToString() ?? "?";
        client.NoDelay = true;
        var stream = client.GetStream();
        var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = false };
        try
        {
            // Belt and braces: a loopback listener only sees loopback peers, but a host started on ::1 with
            // dual-stack or a future listener change must not serve remote clients.
            if (remote is null || !IPAddress.IsLoopback(remote.Address))
            {
                await Write(writer, CtlWire.Error($"connections from {clientName} are refused: loopback only", CmdExitCodes.Failed));
                return;
            }
            using var reading = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            reading.CancelAfter(TimeSpan.FromSeconds(10));
            CmdRequest request;
            try
            {
                var line = await ReadLine(stream, reading.Token);
                if (line is null) return;
                request = CtlWire.ParseRequest(line);
            }
            catch (FormatException e)
            {
                await Write(writer, CtlWire.Error($"bad request: {e.Message}", CmdExitCodes.Usage));
                return;
            }
            if (_palettes[request.Palette] is not { } palette)
            {
                await Write(writer, CtlWire.Error(
                    $"unknown palette '{request.Palette}'; palettes: {string.Join(", ", _palettes.Names.Order(StringComparer.Ordinal))}",
                    CmdExitCodes.Usage));
                return;
            }
            if (CmdPalettes.IsStreaming(request))
                await Stream(stream, writer, palette, request, clientName);
            else
                await AskOnce(writer, palette, request, clientName);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or the host is stopping: nothing to answer to.
            _logger.LogDebug("ctl connection from {Client} ended: {Reason}", clientName, e.Message);
        }
    }

    private async Task AskOnce(StreamWriter writer, IActorRef palette, CmdRequest request, string client)
    {
        CmdReply reply;
        try
        {
            reply = await palette.Ask<CmdReply>(request, _askTimeout, _stop.Token);
        }
        catch (AskTimeoutException)
        {
            reply = new CmdFailed($"'{request.Palette} {request.Command}' got no answer within {_askTimeout.TotalSeconds:0} s");
        }
        switch (reply)
        {
            case CmdOk ok:
                _logger.CmdExecuted(request.Palette, request.Command, client);
                await Write(writer, CtlWire.Result(ok.Data));
                break;
            case CmdFailed failed:
                _logger.CmdFailed(request.Palette, request.Command, client, failed.Error);
                await Write(writer, CtlWire.Error(failed.Error, failed.ExitCode));
                break;
        }
    }

    private async Task Stream(NetworkStream stream, StreamWriter writer, IActorRef palette, CmdRequest request, string client)
    {
        var channel = Channel.CreateUnbounded<CmdReply>(new UnboundedChannelOptions { SingleReader = true });
        var sink = _system.ActorOf(StreamSinkActor.Props(channel.Writer));
        using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        // The client sends nothing after its request; a read returning 0 (or failing) means it disconnected.
        var watchClient = Task.Run(async () =>
        {
            var buffer = new byte[64];
            try { while (await stream.ReadAsync(buffer, done.Token) > 0) { } }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
            done.Cancel();
        });
        try
        {
            _logger.CmdExecuted(request.Palette, request.Command, client);
            palette.Tell(new CmdSubscribe(request, sink));
            await foreach (var reply in channel.Reader.ReadAllAsync(done.Token))
            {
                if (reply is CmdOk ok) await Write(writer, CtlWire.Item(ok.Data));
                else if (reply is CmdFailed failed)
                {
                    await Write(writer, CtlWire.Error(failed.Error, failed.ExitCode));
                    break;
                }
            }
        }
        finally
        {
            _system.Stop(sink);
            done.Cancel();
            await watchClient;
        }
    }

    private static async Task Write(StreamWriter writer, string line)
    {
        await writer.WriteLineAsync(line);
        await writer.FlushAsync();
    }

    /// <summary>Reads one '\n'-terminated UTF-8 line without buffering past it; null at end of stream.</summary>
    private static async Task<string?> ReadLine(NetworkStream stream, CancellationToken ct)
    {
        var bytes = new List<byte>(256);
        var one = new byte[1];
        while (true)
        {
            var n = await stream.ReadAsync(one, ct);
            if (n == 0) return bytes.Count == 0 ? null : Encoding.UTF8.GetString(bytes.ToArray());
            if (one[0] == (byte)'\n') return Encoding.UTF8.GetString(bytes.ToArray()).TrimEnd('\r');
            if (bytes.Count >= CtlWire.MaxRequestBytes) throw new FormatException($"request line longer than {CtlWire.MaxRequestBytes} bytes");
            bytes.Add(one[0]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener.Stop();
        await _acceptLoop;
        Task[] open;
        lock (_connections) open = _connections.ToArray();
        // Streaming connections end when _stop is cancelled; give them a moment to say goodbye, not forever.
        await Task.WhenAny(Task.WhenAll(open), Task.Delay(TimeSpan.FromSeconds(5)));
        _system.Stop(_palettes.Root);
        _stop.Dispose();
    }
}
