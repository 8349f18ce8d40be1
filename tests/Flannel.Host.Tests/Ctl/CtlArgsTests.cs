using System.Net;
using System.Net.Sockets;
using Flannel.Host.Ctl;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

public sealed class CtlArgsTests
{
    [Fact]
    public void Palettes_get_their_default_command_and_options_go_anywhere()
    {
        var a = CtlArgs.Parse(["routes", "--json"]);
        Assert.Equal(("routes", "show"), (a.Request.Palette, a.Request.Command));
        Assert.True(a.Json);
        // The agent's root-only Unix socket unless told otherwise.
        Assert.Equal(new UnixDomainSocketEndPoint("/run/flannel/flanneld.sock"), a.Host);
        Assert.Equal("/run/flannel/flanneld.sock", a.HostText);

        var b = CtlArgs.Parse(["lease", "release", "10.5.1.0/24", "--yes", "--force", "--host=127.0.0.1:9111"]);
        Assert.Equal(["10.5.1.0/24"], b.Request.Args);
        Assert.True(b.Request.Has("yes") && b.Request.Has("force"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9111), b.Host);

        var c = CtlArgs.Parse(["--host", "9200", "log", "level", "debug"]);
        Assert.Equal(("log", "level"), (c.Request.Palette, c.Request.Command));
        Assert.Equal(["debug"], c.Request.Args);
        Assert.Equal(9200, ((IPEndPoint)c.Host).Port);

        Assert.Equal("list", CtlArgs.Parse(["lease"]).Request.Command);

        var d = CtlArgs.Parse(["--socket", "/tmp/a.sock", "status", "--json"]);
        Assert.Equal(("status", "show"), (d.Request.Palette, d.Request.Command));
        Assert.Equal(new UnixDomainSocketEndPoint("/tmp/a.sock"), d.Host);
        Assert.Equal(("status", "show"), (CtlArgs.Parse(["status", "show"]).Request.Palette, CtlArgs.Parse(["status", "show"]).Request.Command));
    }

    [Theory]
    [InlineData("--host", "needs a value")]
    [InlineData("--frobnicate", "unknown option --frobnicate")]
    [InlineData("--timeout=-1", "--timeout '-1'")]
    [InlineData("--socket=flanneld.sock", "--socket 'flanneld.sock' is not an absolute path")]
    [InlineData("--socket", "needs a value")]
    public void Bad_arguments_are_named(string arg, string expected)
    {
        var e = Assert.Throws<FormatException>(() => CtlArgs.Parse(["cluster", "show", arg]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Socket_and_host_together_are_a_usage_error()
    {
        var e = Assert.Throws<FormatException>(() => CtlArgs.Parse(["--socket", "/tmp/a.sock", "--host", "127.0.0.1:9110", "status"]));
        Assert.Equal("--socket and --host name two command hosts; give one", e.Message);
    }

    [Fact]
    public void Help_and_no_arguments_print_usage()
    {
        Assert.True(CtlArgs.Parse([]).Help);
        Assert.True(CtlArgs.Parse(["--help"]).Help);
        Assert.Contains("cluster down-unreachable", CtlArgs.Usage);
        Assert.Contains("--socket defaults to /run/flannel/flanneld.sock", CtlArgs.Usage);
    }
}
