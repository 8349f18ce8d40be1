using Akka.Actor;
using Akka.Configuration;
using Flannel.Actors.Cmd;
using Flannel.Host.Ctl;
using Flannel.Host.Logging;
using Flannel.Testing;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

/// <summary>
/// Issue #13: the command socket belongs to the process, not to one actor system. Between two incarnations (the
/// previous one downed, the next not started yet) it stays and answers a clear "rejoining" error (exit code 3) instead
/// of vanishing; the next incarnation takes it over.
/// </summary>
public sealed class CommandHostIncarnationTests : IAsyncLifetime
{
    private readonly RecordingLoggerFactory _log = new();
    private readonly LogLevelSwitch _level = new(Microsoft.Extensions.Logging.LogLevel.Information);
    private ActorSystem _first = null!;
    private ActorSystem? _second;
    private string _dir = null!;

    private string SocketPath => Path.Combine(_dir, "run", "flanneld.sock");

    public Task InitializeAsync()
    {
        _first = ActorSystem.Create("ctl-incarnation-1", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        _dir = TempDir.Create("inc");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _first.Terminate();
        if (_second is not null) await _second.Terminate();
        Directory.Delete(_dir, recursive: true);
    }

    private CmdContext Context() => new() { NodeName = "node-0", LogLevel = _level };

    [Fact]
    public async Task Between_incarnations_the_socket_stays_and_says_rejoining_then_serves_the_next_actor_system()
    {
        await using var host = CommandHost.Start(_first, SocketPath, null, Context(), _log.CreateLogger("Flannel.Ctl"));
        Assert.Equal(0, (await Ctl("log", "level")).ExitCode);

        await _first.Terminate();
        // Terminated before the runner detached it: already "rejoining", not a time-out.
        var ended = await Ctl("log", "level");
        Assert.Equal(CmdExitCodes.Unavailable, ended.ExitCode);
        Assert.Contains("rejoining", ended.Stderr, StringComparison.Ordinal);

        host.Detach("incarnation 1 ended: downed");
        Assert.True(File.Exists(SocketPath), "the socket file went away between incarnations");
        var between = await Ctl("status");
        Assert.Equal(CmdExitCodes.Unavailable, between.ExitCode);
        Assert.Contains("rejoining the cluster (incarnation 1 ended: downed)", between.Stderr, StringComparison.Ordinal);

        _second = ActorSystem.Create("ctl-incarnation-2", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        host.Retarget(_second, Context());
        var served = await Ctl("log", "level");
        Assert.True(served.ExitCode == 0, served.ToString());
        Assert.Contains("info", served.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Disposing_the_host_after_a_detach_removes_the_socket()
    {
        var host = CommandHost.Start(_first, SocketPath, null, Context(), _log.CreateLogger("Flannel.Ctl"));
        host.Detach("incarnation 1 ended");
        await host.DisposeAsync();
        Assert.False(File.Exists(SocketPath));
    }

    private async Task<CtlResult> Ctl(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CtlCommand.RunAsync(["--socket", SocketPath, .. args], stdout, stderr, TextReader.Null, false, CancellationToken.None);
        return new CtlResult(code, stdout.ToString(), stderr.ToString());
    }
}
