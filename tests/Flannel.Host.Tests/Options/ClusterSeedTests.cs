using Flannel.Host.Options;
using Xunit;

namespace Flannel.Host.Tests.Options;

public class ClusterSeedTests
{
    [Theory]
    [InlineData("10.0.0.1:4053", "10.0.0.1", 4053)]
    [InlineData("node-b", "node-b", 4100)]
    [InlineData("[fd00::1]:5000", "fd00::1", 5000)]
    [InlineData("fd00::2", "fd00::2", 4100)]
    public void Parses(string text, string host, int port) => Assert.Equal(new ClusterSeed(host, port), ClusterSeed.Parse(text, 4100));

    [Theory]
    [InlineData(":4053")]
    [InlineData("a:0")]
    [InlineData("a:65536")]
    [InlineData("[fd00::1")]
    public void Rejects(string text) => Assert.Throws<FormatException>(() => ClusterSeed.Parse(text, 4053));

    [Fact]
    public void Formats_v6_with_brackets() => Assert.Equal("[fd00::1]:4053", new ClusterSeed("fd00::1", 4053).ToString());
}
