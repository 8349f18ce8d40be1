using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Flannel.Testing;
using Flannel.Actors.Cmd;
using Flannel.Host.Ctl;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

public sealed class CommandHostTests : IAsyncLifetime
{
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("ctl-host-test", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.Terminate();

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("192.0.2.10")]
    [InlineData("::")]
    public void Refuses_to_bind_a_non_loopback_address(string address)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(address), 0);

        var e = Assert.Throws<CommandHostException>(() => CommandHost.Start(_system, endpoint, new CmdContext()));

        Assert.Contains($"refusing to serve the command host on {endpoint}", e.Message);
        Assert.Contains("only loopback addresses", e.Message);
    }

    [Fact]
    public async Task Serves_on_loopback_and_a_second_host_on_the_same_port_fails_clearly()
    {
        await using var host = CommandHost.Start(_system, new IPEndPoint(IPAddress.Loopback, 0), new CmdContext());
        var endpoint = host.TcpEndpoint!;
        Assert.True(IPAddress.IsLoopback(endpoint.Address));
        Assert.NotEqual(0, endpoint.Port);
        Assert.Null(host.SocketPath);

        var e = Assert.Throws<CommandHostException>(() =>
            CommandHost.Start(_system, new IPEndPoint(IPAddress.Loopback, endpoint.Port), new CmdContext()));
        Assert.Contains($"cannot listen on 127.0.0.1:{endpoint.Port}", e.Message);
    }

    [Fact]
    public async Task Ctl_says_clearly_when_no_agent_listens()
    {
        var port = FreePort();
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await CtlCommand.RunAsync(["--host", $"127.0.0.1:{port}", "cluster", "show"], stdout, stderr, TextReader.Null, false,
            CancellationToken.None);

        Assert.Equal(CmdExitCodes.Unavailable, code);
        Assert.Equal($"ctl: no flanneld command host at 127.0.0.1:{port} (connection refused)\n", stderr.ToString());
        Assert.Equal("", stdout.ToString());
    }

    [Fact]
    public async Task Disposing_the_host_stops_the_palettes_and_frees_the_port()
    {
        var host = CommandHost.Start(_system, new IPEndPoint(IPAddress.Loopback, 0), new CmdContext());
        var port = host.TcpEndpoint!.Port;
        var root = host.Palettes.Root.Path;

        await host.DisposeAsync();

        await Poll.UntilAsync(async () =>
                (await _system.ActorSelection(root).Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(3))).Subject is null,
            TimeSpan.FromSeconds(5), "palettes stopped");
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        listener.Stop();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
