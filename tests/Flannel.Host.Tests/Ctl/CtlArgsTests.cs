using System.Net;
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
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9110), a.Host);

        var b = CtlArgs.Parse(["lease", "release", "10.5.1.0/24", "--yes", "--force", "--host=127.0.0.1:9111"]);
        Assert.Equal(["10.5.1.0/24"], b.Request.Args);
        Assert.True(b.Request.Has("yes") && b.Request.Has("force"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9111), b.Host);

        var c = CtlArgs.Parse(["--host", "9200", "log", "level", "debug"]);
        Assert.Equal(("log", "level"), (c.Request.Palette, c.Request.Command));
        Assert.Equal(["debug"], c.Request.Args);
        Assert.Equal(9200, ((IPEndPoint)c.Host).Port);

        Assert.Equal("list", CtlArgs.Parse(["lease"]).Request.Command);
    }

    [Theory]
    [InlineData("--host", "needs a value")]
    [InlineData("--frobnicate", "unknown option --frobnicate")]
    [InlineData("--timeout=-1", "--timeout '-1'")]
    public void Bad_arguments_are_named(string arg, string expected)
    {
        var e = Assert.Throws<FormatException>(() => CtlArgs.Parse(["cluster", "show", arg]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Help_and_no_arguments_print_usage()
    {
        Assert.True(CtlArgs.Parse([]).Help);
        Assert.True(CtlArgs.Parse(["--help"]).Help);
        Assert.Contains("cluster down-unreachable", CtlArgs.Usage);
    }
}
