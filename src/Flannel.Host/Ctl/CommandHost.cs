using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Flannel.Actors.Cmd;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Ctl;

/// <summary>
/// The agent's command host for `flanneld ctl`: one JSON request line per connection (see <see cref="CtlWire"/>); the
/// transport only parses and Asks the palette actors. It listens on a root-only Unix socket (<see cref="UnixCommandSocket"/>:
/// mode 0600 and every peer's SO_PEERCRED uid checked) and, only when asked, on a loopback TCP port, which cannot tell
/// who connects. The agent runs with hostNetwork in Kubernetes, so any non-loopback address would expose node control
/// (cluster down, lease release) to the network: <see cref="Start(ActorSystem, string?, IPEndPoint?, CmdContext, ILogger?, CommandHostLimits?)"/>
/// refuses it. Connections are capped (<see cref="CommandHostLimits"/>): a client that opens many, never sends its
/// request or sends an endless line is told so and closed.
/// The host belongs to the process, not to an actor system: <see cref="Detach"/> when an incarnation ends (every request
/// is then answered with a "rejoining" error, exit code <see cref="CmdExitCodes.Unavailable"/>, instead of the socket
/// vanishing) and <see cref="Retarget"/> to the next incarnation's actor system.
/// </summary>
public sealed class CommandHost : IAsyncDisposable
{
    /// <summary>The actor system the requests go to and its palettes; swapped as one reference.</summary>
    private sealed record Target(ActorSystem System, CmdPalettes Palettes, TimeSpan AskTimeout);

    private readonly ILogger _logger;
    private volatile Target? _target;
    private volatile string _detached = "the agent is starting";
    private readonly CommandHostLimits _limits;
    private readonly UnixCommandSocket? _unix;
    private readonly Socket? _tcp;
    private readonly ConnectionGate _gate;
    // Refused connections are told why and closed after the client had a moment to read it; those moments are
    // capped too, so a flood of refusals holds no more than this many sockets (the rest are closed at once).
    private readonly ConnectionGate _refusals;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _acceptLoops = [];
    private readonly HashSet<Task> _connections = [];
    // One "busy" warning per 10 s at most while the cap refuses connections, with how many it refused meanwhile.
    private readonly Security.RefusalThrottle _busyLog = new(TimeSpan.FromSeconds(10));

    private CommandHost(ActorSystem system, CmdPalettes palettes, UnixCommandSocket? unix, Socket? tcp, ILogger logger,
        TimeSpan askTimeout, CommandHostLimits limits)
    {
        _target = new Target(system, palettes, askTimeout);
        _unix = unix;
        _tcp = tcp;
        _logger = logger;
        _limits = limits;
        _gate = new ConnectionGate(limits.MaxConnections);
        _refusals = new ConnectionGate(limits.MaxConnections);
        TcpEndpoint = (IPEndPoint?)tcp?.LocalEndPoint;
        if (unix is not null) _acceptLoops.Add(Task.Run(() => AcceptLoop(unix.Listener, unixPeers: true)));
        if (tcp is not null) _acceptLoops.Add(Task.Run(() => AcceptLoop(tcp, unixPeers: false)));
    }

    /// <summary>The loopback TCP endpoint (the real port when 0 was asked for); null when TCP is off.</summary>
    public IPEndPoint? TcpEndpoint { get; }

    /// <summary>The Unix socket's path; null when it is off.</summary>
    public string? SocketPath => _unix?.Path;

    /// <summary>The palettes of the actor system served now (the last one after <see cref="Detach"/>).</summary>
    public CmdPalettes Palettes => (_target ?? _last)!.Palettes;

    private Target? _last;

    /// <summary>
    /// The actor system served ended (an incarnation of the control plane is over): its palettes are stopped and every
    /// request until <see cref="Retarget"/> is answered "rejoining: <paramref name="why"/>" with exit code 3.
    /// </summary>
    public void Detach(string why)
    {
        _detached = why;
        var t = _target;
        _target = null;
        if (t is null) return;
        _last = t;
        if (!t.System.WhenTerminated.IsCompleted) t.System.Stop(t.Palettes.Root);
    }

    /// <summary>Serve <paramref name="system"/> from now on: starts its palettes (under /user/cmd) and swaps them in.</summary>
    public void Retarget(ActorSystem system, CmdContext ctx)
    {
        if (_target is not null) Detach("the actor system is being replaced");
        var palettes = CmdPalettes.Start(system, ctx);
        _target = new Target(system, palettes, ctx.SourceTimeout + TimeSpan.FromSeconds(5));
        _last = null;
    }

    /// <summary>What a request gets while no actor system is served.</summary>
    private string DetachedError => $"flanneld is rejoining the cluster ({_detached}); the data plane keeps forwarding with the last " +
                                    "known peers; retry in a few seconds";

    /// <summary>Connections being served right now.</summary>
    public int OpenConnections => _gate.Open;

    /// <summary>127.0.0.1:<paramref name="port"/>, the only kind of TCP endpoint the agent uses.</summary>
    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);

    /// <summary>TCP only (tests, and agents run with --cmd-socket "" --cmd-port N).</summary>
    public static CommandHost Start(ActorSystem system, IPEndPoint endpoint, CmdContext ctx, ILogger? logger = null,
        CommandHostLimits? limits = null) =>
        Start(system, null, endpoint, ctx, logger, limits);

    /// <summary>
    /// Starts the palette actors (under /user/cmd) and listens on the Unix socket <paramref name="socketPath"/> and/or
    /// the TCP <paramref name="tcp"/> endpoint, which must be a loopback address (at least one of the two). Throws
    /// <see cref="CommandHostException"/> for any other address, a path that cannot be served, or a port in use.
    /// </summary>
    public static CommandHost Start(ActorSystem system, string? socketPath, IPEndPoint? tcp, CmdContext ctx,
        ILogger? logger = null, CommandHostLimits? limits = null)
    {
        if (socketPath is null && tcp is null) throw new ArgumentException("a command host needs a socket path or a TCP endpoint");
        if (tcp is not null) EnsureLoopback(tcp);
        logger ??= system.LoggerFactory().CreateLogger("Flannel.Ctl");
        limits ??= CommandHostLimits.Default;
        UnixCommandSocket? unix = null;
        Socket? listener = null;
        try
        {
            if (socketPath is not null) unix = UnixCommandSocket.Bind(socketPath, logger);
            if (tcp is not null) listener = ListenTcp(tcp);
            var palettes = CmdPalettes.Start(system, ctx);
            var host = new CommandHost(system, palettes, unix, listener, logger, ctx.SourceTimeout + TimeSpan.FromSeconds(5), limits);
            if (unix is not null) logger.CmdHostStarted("unix:" + unix.Path);
            if (host.TcpEndpoint is { } endpoint)
            {
                logger.CmdHostStarted(endpoint.ToString());
                logger.CmdTcpUnauthenticated(endpoint.ToString());
            }
            return host;
        }
        catch
        {
            unix?.Dispose();
            listener?.Dispose();
            throw;
        }
    }

    /// <summary>Throws <see cref="CommandHostException"/> unless the address is loopback (127.0.0.0/8 or ::1).</summary>
    public static void EnsureLoopback(IPEndPoint endpoint)
    {
        if (!IPAddress.IsLoopback(endpoint.Address))
            throw new CommandHostException(
                $"refusing to serve the command host on {endpoint}: only loopback addresses (127.0.0.1, ::1) are allowed, " +
                "since the agent runs in the host network namespace and any other address would expose node control");
    }

    private static Socket ListenTcp(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(16);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new CommandHostException($"command host cannot listen on {endpoint}: {e.Message} (set --cmd-port, 0 disables)", e);
        }
    }

    private async Task AcceptLoop(Socket listener, bool unixPeers)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            // Who may talk and whether there is room are decided here, before any task or buffer exists for the client.
            if (Admit(client, unixPeers) is not { } name) continue;
            var task = Task.Run(() => Serve(client, name));
            lock (_connections) _connections.Add(task);
            _ = task.ContinueWith(t =>
            {
                lock (_connections) _connections.Remove(t);
            }, TaskScheduler.Default);
        }
    }

    /// <summary>The client's name for the logs when it is served (holding a slot of the gate), null when refused.</summary>
    private string? Admit(Socket client, bool unixPeers)
    {
        string name;
        if (unixPeers)
        {
            var peer = PeerCredentials.Read(client);
            name = peer?.ToString() ?? "unknown peer";
            if (CommandPeerPolicy.Refusal(peer) is { } refusal)
            {
                _logger.CmdPeerRefused(_unix!.Path, peer?.Pid ?? 0, peer?.Uid ?? uint.MaxValue, peer?.Gid ?? uint.MaxValue);
                Refuse(client, CtlWire.Error(refusal, CmdExitCodes.Failed));
                return null;
            }
        }
        else
        {
            var remote = client.RemoteEndPoint as IPEndPoint;
            name = remote?.ToString() ?? "?";
            // Belt and braces: a loopback listener only sees loopback peers, but a host started on ::1 with
            // dual-stack or a future listener change must not serve remote clients.
            if (remote is null || !IPAddress.IsLoopback(remote.Address))
            {
                _logger.CmdRequestRefused(name, "not a loopback peer");
                Refuse(client, CtlWire.Error($"connections from {name} are refused: loopback only", CmdExitCodes.Failed));
                return null;
            }
        }
        if (_gate.TryEnter()) return name;
        LogBusy(name);
        Refuse(client, CtlWire.Error(
            $"the command host is busy: {_gate.Max} connections are open (the cap); try again when one has finished", CmdExitCodes.Failed));
        return null;
    }

    private void LogBusy(string client)
    {
        if (_busyLog.ShouldReport("busy", DateTime.UtcNow, out var heldBack)) _logger.CmdHostBusy(heldBack + 1, _gate.Max, client);
    }

    /// <summary>
    /// Tells a refused client why and closes. The line goes out at once (it fits any socket buffer); the close waits
    /// until the client hung up or 2 s passed, because closing with its request still unread would reset a TCP
    /// connection before the client reads the answer.
    /// </summary>
    private void Refuse(Socket client, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        try
        {
            client.Blocking = false;
            client.Send(bytes);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            client.Dispose();
            return;
        }
        if (!_refusals.TryEnter())
        {
            client.Dispose();
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await DrainUntilClosed(client);
            }
            finally
            {
                client.Dispose();
                _refusals.Exit();
            }
        });
    }

    /// <summary>
    /// Waits (at most <see cref="LingerTime"/>) until the client has hung up, discarding what it still sends. Closing a
    /// socket whose input is unread resets the connection (Unix and TCP alike), and the client would lose the answer
    /// written just before; so every connection ends with shutdown(SHUT_WR), this drain, then close.
    /// </summary>
    private async Task DrainUntilClosed(Socket client)
    {
        try
        {
            using var linger = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            linger.CancelAfter(LingerTime);
            var sink = new byte[512];
            while (await client.ReceiveAsync(sink, SocketFlags.None, linger.Token) > 0) { }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    private static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(2);

    private async Task Serve(Socket client, string clientName)
    {
        try
        {
            using var _ = client;
            if (client.ProtocolType == ProtocolType.Tcp) client.NoDelay = true;
            await using var stream = new NetworkStream(client, ownsSocket: false);
            var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = false };
            await Handle(stream, writer, clientName);
            client.Shutdown(SocketShutdown.Send);
            await DrainUntilClosed(client);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or the host is stopping: nothing to answer to.
            _logger.LogDebug("ctl connection from {Client} ended: {Reason}", clientName, e.Message);
        }
        finally
        {
            _gate.Exit();
        }
    }

    private async Task Handle(NetworkStream stream, StreamWriter writer, string clientName)
    {
        CmdRequest request;
        using (var reading = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            reading.CancelAfter(_limits.RequestTimeout);
            try
            {
                var line = await ReadLine(stream, _limits.MaxRequestBytes, reading.Token);
                if (line is null) return;
                request = CtlWire.ParseRequest(line);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                var reason = $"no request line within {_limits.RequestTimeout.TotalSeconds:0.#} s";
                _logger.CmdRequestRefused(clientName, reason);
                await Write(writer, CtlWire.Error(reason, CmdExitCodes.Usage));
                return;
            }
            catch (RequestTooLongException e)
            {
                _logger.CmdRequestRefused(clientName, e.Message);
                await Write(writer, CtlWire.Error($"bad request: {e.Message}", CmdExitCodes.Usage));
                return;
            }
            catch (FormatException e)
            {
                await Write(writer, CtlWire.Error($"bad request: {e.Message}", CmdExitCodes.Usage));
                return;
            }
        }
        // Between incarnations (and while the ended one is being replaced) the socket stays and says why.
        if (_target is not { } target || target.System.WhenTerminated.IsCompleted)
        {
            await Write(writer, CtlWire.Error(DetachedError, CmdExitCodes.Unavailable));
            return;
        }
        if (target.Palettes[request.Palette] is not { } palette)
        {
            await Write(writer, CtlWire.Error(
                $"unknown palette '{request.Palette}'; palettes: {string.Join(", ", target.Palettes.Names.Order(StringComparer.Ordinal))}",
                CmdExitCodes.Usage));
            return;
        }
        if (CmdPalettes.IsStreaming(request))
            await Stream(stream, writer, target, palette, request, clientName);
        else
            await AskOnce(writer, target, palette, request, clientName);
    }

    private async Task AskOnce(StreamWriter writer, Target target, IActorRef palette, CmdRequest request, string client)
    {
        CmdReply reply;
        try
        {
            reply = await palette.Ask<CmdReply>(request, target.AskTimeout, _stop.Token);
        }
        catch (Exception e) when (e is AskTimeoutException or InvalidOperationException && (_target != target || target.System.WhenTerminated.IsCompleted))
        {
            // The actor system ended while the request was on its way.
            reply = new CmdFailed(DetachedError, CmdExitCodes.Unavailable);
        }
        catch (AskTimeoutException)
        {
            reply = new CmdFailed($"'{request.Palette} {request.Command}' got no answer within {target.AskTimeout.TotalSeconds:0} s");
        }
        switch (reply)
        {
            case CmdOk ok:
                _logger.CmdExecuted(CmdPalettes.ChangesState(request) ? LogLevel.Information : LogLevel.Debug, request.Palette, request.Command, client);
                await Write(writer, CtlWire.Result(ok.Data));
                break;
            case CmdFailed failed:
                _logger.CmdFailed(request.Palette, request.Command, client, failed.Error);
                await Write(writer, CtlWire.Error(failed.Error, failed.ExitCode));
                break;
        }
    }

    private async Task Stream(NetworkStream stream, StreamWriter writer, Target target, IActorRef palette, CmdRequest request, string client)
    {
        var channel = Channel.CreateUnbounded<CmdReply>(new UnboundedChannelOptions { SingleReader = true });
        var system = target.System;
        var sink = system.ActorOf(StreamSinkActor.Props(channel.Writer));
        // A stream outlives no actor system: the end of this one ends it with the "rejoining" error.
        _ = system.WhenTerminated.ContinueWith(_ => channel.Writer.TryWrite(new CmdFailed(DetachedError, CmdExitCodes.Unavailable)),
            TaskScheduler.Default);
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
            _logger.CmdExecuted(CmdPalettes.ChangesState(request) ? LogLevel.Information : LogLevel.Debug, request.Palette, request.Command, client);
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
            system.Stop(sink);
            done.Cancel();
            await watchClient;
        }
    }

    private static async Task Write(StreamWriter writer, string line)
    {
        await writer.WriteLineAsync(line);
        await writer.FlushAsync();
    }

    /// <summary>
    /// Reads one '\n'-terminated UTF-8 line without buffering past it (a streaming command reads on after it); null at
    /// end of stream. A line longer than <paramref name="max"/> bytes throws <see cref="RequestTooLongException"/>.
    /// </summary>
    private static async Task<string?> ReadLine(NetworkStream stream, int max, CancellationToken ct)
    {
        var bytes = new List<byte>(256);
        var one = new byte[1];
        while (true)
        {
            var n = await stream.ReadAsync(one, ct);
            if (n == 0) return bytes.Count == 0 ? null : Encoding.UTF8.GetString(bytes.ToArray());
            if (one[0] == (byte)'\n') return Encoding.UTF8.GetString(bytes.ToArray()).TrimEnd('\r');
            if (bytes.Count >= max) throw new RequestTooLongException($"request line longer than {max} bytes");
            bytes.Add(one[0]);
        }
    }

    private sealed class RequestTooLongException(string message) : Exception(message);

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _unix?.Dispose();
        _tcp?.Dispose();
        await Task.WhenAll(_acceptLoops);
        Task[] open;
        lock (_connections) open = _connections.ToArray();
        // Streaming connections end when _stop is cancelled; give them a moment to say goodbye, not forever.
        await Task.WhenAny(Task.WhenAll(open), Task.Delay(TimeSpan.FromSeconds(5)));
        if (_target is { } t && !t.System.WhenTerminated.IsCompleted) t.System.Stop(t.Palettes.Root);
        _stop.Dispose();
    }
}
