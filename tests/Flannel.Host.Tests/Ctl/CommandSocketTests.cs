using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Flannel.Actors.Cmd;
using Flannel.Actors.Observability;
using Flannel.Host.Ctl;
using Flannel.Demo;
using Flannel.Host.Logging;
using Flannel.Testing;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

/// <summary>
/// The command host's Unix socket as the operating system sees it: its file (mode, directory, stale and foreign
/// files) and who may talk to it (T2: root only), checked with a real non-root process (setpriv + socat, as uid 1000).
/// </summary>
public sealed class CommandSocketTests : IAsyncLifetime
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0700 = Mode0600 | UnixFileMode.UserExecute;
    private const string LogLevelRequest = """{"palette":"log","command":"level","args":["debug"]}""";

    private readonly RecordingLoggerFactory _log = new();
    private readonly LogLevelSwitch _level = new(Microsoft.Extensions.Logging.LogLevel.Information);
    private ActorSystem _system = null!;
    private string _dir = null!;

    private string RunDir => Path.Combine(_dir, "run");
    private string SocketPath => Path.Combine(RunDir, "flanneld.sock");

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("ctl-socket-test", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        _dir = TempDir.Create("sock");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        Directory.Delete(_dir, recursive: true);
    }

    private CommandHost Start() =>
        CommandHost.Start(_system, SocketPath, null, new CmdContext { NodeName = "node-0", LogLevel = _level }, _log.CreateLogger("Flannel.Ctl"));

    [Fact]
    public async Task The_socket_is_0600_in_a_0755_directory_made_for_it_and_removed_on_dispose()
    {
        var host = Start();

        Assert.Equal(UnixSocketFile.Kind.Socket, UnixSocketFile.Inspect(SocketPath).Kind);
        Assert.Equal(Mode0600, File.GetUnixFileMode(SocketPath));
        Assert.Equal(Mode0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            File.GetUnixFileMode(RunDir));
        Assert.Equal(SocketPath, host.SocketPath);
        Assert.Null(host.TcpEndpoint);
        Assert.Single(_log.MessagesOf(EventIds.CmdHostStarted), $"command host listening on unix:{SocketPath}");
        Assert.Empty(_log.MessagesOf(EventIds.CmdTcpUnauthenticated));

        await host.DisposeAsync();

        Assert.Equal(UnixSocketFile.Kind.Missing, UnixSocketFile.Inspect(SocketPath).Kind);
    }

    [Fact]
    public void Fchmod_before_bind_makes_the_kernel_create_the_file_0600()
    {
        // The primitive the host relies on for "never more open than 0600": no chmod after bind here.
        Directory.CreateDirectory(RunDir);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

        UnixSocketFile.ChmodBeforeBind(socket, Mode0600);
        socket.Bind(new UnixDomainSocketEndPoint(SocketPath));

        Assert.Equal(Mode0600, File.GetUnixFileMode(SocketPath));
    }

    [Fact]
    public async Task A_stale_socket_of_a_killed_run_is_replaced_and_logged()
    {
        Directory.CreateDirectory(RunDir);
        LeaveStaleSocket();
        Assert.Equal(UnixSocketFile.Kind.Socket, UnixSocketFile.Inspect(SocketPath).Kind);

        await using var host = Start();

        Assert.Equal(Mode0600, File.GetUnixFileMode(SocketPath));
        Assert.Single(_log.MessagesOf(EventIds.CmdSocketReplaced));
        var r = await Ctl("log", "level");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public async Task A_live_socket_is_not_taken_over()
    {
        await using var first = Start();
        using var other = ActorSystem.Create("ctl-socket-other", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));

        var e = Assert.Throws<CommandHostException>(() => CommandHost.Start(other, SocketPath, null, new CmdContext()));

        Assert.Equal($"--cmd-socket {SocketPath}: another process (a running flanneld?) is serving it", e.Message);
        var r = await Ctl("log", "level");
        Assert.True(r.ExitCode == 0, "the first host still serves: " + r);
    }

    [Fact]
    public void A_file_that_is_not_a_socket_is_never_replaced()
    {
        Directory.CreateDirectory(RunDir);
        File.WriteAllText(SocketPath, "precious");

        var e = Assert.Throws<CommandHostException>(Start);

        Assert.Equal($"--cmd-socket {SocketPath} exists and is not a socket; refusing to replace it", e.Message);
        Assert.Equal("precious", File.ReadAllText(SocketPath));
    }

    [Fact]
    public async Task A_non_root_process_cannot_even_connect_to_the_0600_socket()
    {
        await using var host = Start();
        // Let uid 1000 traverse the directory, so what stops it is the socket's own mode.
        File.SetUnixFileMode(RunDir, Mode0700 | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);

        var r = AsUid1000Socat(LogLevelRequest);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Permission denied", r.Stderr);
        Assert.Equal("", r.Stdout);
        Assert.Empty(_log.MessagesOf(EventIds.CmdExecuted));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, _level.Level);
    }

    [Fact]
    public async Task A_non_root_process_that_gets_through_the_file_mode_is_refused_by_its_uid_and_logged()
    {
        await using var host = Start();
        // An operator (or a bug) opened the socket up: SO_PEERCRED is the second line of defence.
        File.SetUnixFileMode(RunDir, Mode0700 | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(SocketPath, Mode0600 | UnixFileMode.GroupRead | UnixFileMode.GroupWrite |
                                         UnixFileMode.OtherRead | UnixFileMode.OtherWrite);

        var r = AsUid1000Socat(LogLevelRequest);

        var refusal = CtlWire.ParseResponse(r.Stdout.Trim());
        Assert.Equal(CtlWire.Kinds.Error, refusal.Kind);
        Assert.Equal(CmdExitCodes.Failed, refusal.ExitCode);
        Assert.Equal("permission denied: uid 1000 is not root; only root may run flanneld ctl", refusal.Error);
        // Nothing ran: the level is unchanged and no command was executed.
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, _level.Level);
        Assert.Empty(_log.MessagesOf(EventIds.CmdExecuted));
        var logged = Assert.Single(_log.MessagesOf(EventIds.CmdPeerRefused));
        var socket = System.Text.RegularExpressions.Regex.Escape(SocketPath);
        Assert.Matches($@"^command host {socket}: refused pid [1-9]\d* uid 1000 gid 1000: only root may run flanneld ctl$", logged);

        // Root through the same opened-up socket is served.
        var root = await Ctl("log", "level", "debug");
        Assert.True(root.ExitCode == 0, root.ToString());
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, _level.Level);
        Assert.Matches(@"^ctl log level from uid 0 pid \d+: ok$", Assert.Single(_log.MessagesOf(EventIds.CmdExecuted)));
    }

    [Fact]
    public async Task The_kernel_reports_the_connecting_process()
    {
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var path = Path.Combine(_dir, "peer.sock");
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();

        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        using var accepted = await listener.AcceptAsync();

        Assert.Equal(new PeerCredentials(Environment.ProcessId, 0, 0), PeerCredentials.Read(accepted));
    }

    [Fact]
    public async Task Ctl_names_the_socket_when_no_agent_serves_it()
    {
        var missing = await Ctl("cluster", "show");
        Directory.CreateDirectory(RunDir);
        LeaveStaleSocket();
        var refused = await Ctl("cluster", "show");

        Assert.Equal(CmdExitCodes.Unavailable, missing.ExitCode);
        Assert.Equal($"ctl: no flanneld command host at {SocketPath} (no such socket; is flanneld running with this --cmd-socket?)\n",
            missing.Stderr);
        Assert.Equal(CmdExitCodes.Unavailable, refused.ExitCode);
        Assert.Equal($"ctl: no flanneld command host at {SocketPath} (connection refused)\n", refused.Stderr);
    }

    /// <summary>
    /// A socket file nobody listens on, as a killed agent leaves it. (.NET unlinks a bound path when the socket is
    /// disposed, so the socket is bound elsewhere and renamed into place first.)
    /// </summary>
    private void LeaveStaleSocket()
    {
        var elsewhere = Path.Combine(_dir, "bound-here.sock");
        using var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        dead.Bind(new UnixDomainSocketEndPoint(elsewhere));
        File.Move(elsewhere, SocketPath);
    }

    private async Task<CtlResult> Ctl(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CtlCommand.RunAsync(["--socket", SocketPath, .. args], stdout, stderr, TextReader.Null, false, CancellationToken.None);
        return new CtlResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Sends <paramref name="request"/> as uid/gid 1000 without supplementary groups and prints the answer.</summary>
    private ProcessRunner.Result AsUid1000Socat(string request) =>
        ProcessRunner.Run("setpriv", ["--reuid=1000", "--regid=1000", "--clear-groups", "--", "socat", "-t", "5", "-", $"UNIX-CONNECT:{SocketPath}"],
            TimeSpan.FromSeconds(20), request + "\n");
}
