using System.Net;
using Akka.Actor;
using Akka.Configuration;
using Flannel.Actors.Cmd;
using Flannel.Actors.Observability;
using Flannel.Host.Ctl;
using Flannel.Host.Logging;
using Flannel.Testing;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

/// <summary>
/// What one local client can make the command host hold: the connection cap, the request line length and the time a
/// client has to send its request. Each is hit through the real Unix socket with a small limit.
/// </summary>
public sealed class CommandHostLimitsTests : IAsyncLifetime
{
    private readonly RecordingLoggerFactory _log = new();
    private readonly LogLevelSwitch _level = new(Microsoft.Extensions.Logging.LogLevel.Information);
    private ActorSystem _system = null!;
    private string _dir = null!;

    private string SocketPath => Path.Combine(_dir, "flanneld.sock");

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("ctl-limits-test", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        _dir = TempDir.Create("limits");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        Directory.Delete(_dir, recursive: true);
    }

    private CommandHost Start(CommandHostLimits limits, IPEndPoint? tcp = null) =>
        CommandHost.Start(_system, SocketPath, tcp, new CmdContext { LogLevel = _level }, _log.CreateLogger("Flannel.Ctl"), limits);

    [Fact]
    public void The_default_cap_is_16_connections()
    {
        Assert.Equal(16, CommandHostLimits.Default.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(10), CommandHostLimits.Default.RequestTimeout);
        Assert.Equal(64 * 1024, CommandHostLimits.Default.MaxRequestBytes);
    }

    [Fact]
    public async Task The_connection_past_the_cap_is_told_so_and_closed_and_a_freed_slot_serves_again()
    {
        await using var host = Start(new CommandHostLimits { MaxConnections = 2, RequestTimeout = TimeSpan.FromSeconds(60) });
        await using var first = await UnixClient.ConnectAsync(SocketPath);
        await using var second = await UnixClient.ConnectAsync(SocketPath);
        await Poll.UntilAsync(() => host.OpenConnections == 2, TimeSpan.FromSeconds(10), "two silent connections held");

        await using (var third = await UnixClient.ConnectAsync(SocketPath))
        {
            var busy = await third.ReadResponseAsync();
            Assert.Equal(CtlWire.Kinds.Error, busy.Kind);
            Assert.Equal("the command host is busy: 2 connections are open (the cap); try again when one has finished", busy.Error);
            Assert.Null(await third.ReadLineAsync());
        }
        Assert.Matches(@"^command host: refused 1 connection\(s\) while 2 were open \(the cap\); latest from uid 0 pid \d+$",
            Assert.Single(_log.MessagesOf(EventIds.CmdHostBusy)));
        Assert.Equal(2, host.OpenConnections);

        await first.DisposeAsync();
        await Poll.UntilAsync(() => host.OpenConnections == 1, TimeSpan.FromSeconds(10), "the closed connection's slot freed");
        await using var fourth = await UnixClient.ConnectAsync(SocketPath);
        await fourth.SendAsync("""{"palette":"log","command":"level","args":["debug"]}""" + "\n");
        var served = await fourth.ReadResponseAsync();
        Assert.Equal(CtlWire.Kinds.Result, served.Kind);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, _level.Level);
    }

    [Fact]
    public async Task A_request_line_longer_than_the_limit_is_refused_without_reading_on()
    {
        await using var host = Start(new CommandHostLimits { MaxRequestBytes = 1024 });
        await using var client = await UnixClient.ConnectAsync(SocketPath);

        await client.SendAsync(new string('x', 4096));
        var refused = await client.ReadResponseAsync();

        Assert.Equal(CtlWire.Kinds.Error, refused.Kind);
        Assert.Equal(CmdExitCodes.Usage, refused.ExitCode);
        Assert.Equal("bad request: request line longer than 1024 bytes", refused.Error);
        Assert.Null(await client.ReadLineAsync());
        Assert.Matches(@"^command host: request from uid 0 pid \d+ refused: request line longer than 1024 bytes$",
            Assert.Single(_log.MessagesOf(EventIds.CmdRequestRefused)));
        await Poll.UntilAsync(() => host.OpenConnections == 0, TimeSpan.FromSeconds(10), "the slot freed");
    }

    [Fact]
    public async Task A_client_that_sends_no_request_is_closed_after_the_request_timeout()
    {
        await using var host = Start(new CommandHostLimits { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        await using var client = await UnixClient.ConnectAsync(SocketPath);

        var timedOut = await client.ReadResponseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(CtlWire.Kinds.Error, timedOut.Kind);
        Assert.Equal("no request line within 0.3 s", timedOut.Error);
        Assert.Null(await client.ReadLineAsync());
        Assert.Single(_log.MessagesOf(EventIds.CmdRequestRefused));
        await Poll.UntilAsync(() => host.OpenConnections == 0, TimeSpan.FromSeconds(10), "the slot freed");
    }

    [Fact]
    public async Task Tcp_serves_only_when_asked_and_warns_that_it_cannot_tell_who_connects()
    {
        await using var host = Start(CommandHostLimits.Default, new IPEndPoint(IPAddress.Loopback, 0));
        var endpoint = host.TcpEndpoint!;

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CtlCommand.RunAsync(["--host", endpoint.ToString(), "log", "level"], stdout, stderr, TextReader.Null, false,
            CancellationToken.None);

        Assert.True(code == 0, stderr.ToString());
        Assert.Contains("log level: Information", stdout.ToString());
        var warning = Assert.Single(_log.Events, e => e.EventId.Id == EventIds.CmdTcpUnauthenticated.Id);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.StartsWith($"command host also listens on TCP {endpoint} (--cmd-port): it cannot tell who connects, so any local process", warning.Message);
        Assert.Equal(["command host listening on unix:" + SocketPath, "command host listening on " + endpoint],
            _log.MessagesOf(EventIds.CmdHostStarted));
    }
}
