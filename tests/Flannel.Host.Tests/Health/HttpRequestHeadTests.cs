using System.Text;
using Flannel.Host.Health;
using Xunit;

namespace Flannel.Host.Tests.Health;

public sealed class HttpRequestHeadTests
{
    private static HttpRequestHead? Parse(string head, out string error) => HttpRequestHead.Parse(Encoding.Latin1.GetBytes(head), out error);

    [Theory]
    [InlineData("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/readyz")]
    [InlineData("HEAD /healthz HTTP/1.0\r\n\r\n", "HEAD", "/healthz")]
    [InlineData("GET /metrics?name[]=flannel_leases_held HTTP/1.1\r\n\r\n", "GET", "/metrics")]
    public void A_request_line_gives_method_and_path_without_the_query(string head, string method, string path)
    {
        var r = Parse(head, out var error);
        Assert.NotNull(r);
        Assert.Equal("", error);
        Assert.Equal(method, r.Method);
        Assert.Equal(path, r.Path);
    }

    [Theory]
    [InlineData("GET /readyz HTTP/1.1", "not terminated by CRLF")]
    [InlineData("GET /readyz\r\n\r\n", "is not \"METHOD /path HTTP/1.x\"")]
    [InlineData("GET  /readyz HTTP/1.1\r\n\r\n", "is not \"METHOD /path HTTP/1.x\"")]
    [InlineData("GET /readyz HTTP/2.0\r\n\r\n", "unsupported protocol version \"HTTP/2.0\"")]
    [InlineData("get /readyz HTTP/1.1\r\n\r\n", "method \"get\"")]
    [InlineData("GET readyz HTTP/1.1\r\n\r\n", "not an absolute path")]
    [InlineData("GET http://x/readyz HTTP/1.1\r\n\r\n", "not an absolute path")]
    [InlineData("GET /ready\u00ffz HTTP/1.1\r\n\r\n", "not printable ASCII")]
    [InlineData("GET /ready\tz HTTP/1.1\r\n\r\n", "not printable ASCII")]
    [InlineData("\r\n\r\n", "is not \"METHOD /path HTTP/1.x\"")]
    public void A_malformed_request_line_is_refused_with_the_reason(string head, string reason)
    {
        Assert.Null(Parse(head, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void The_head_ends_at_the_first_empty_line()
    {
        Assert.Equal(-1, HttpRequestHead.HeadLength("GET / HTTP/1.1\r\nHost: x\r\n"u8));
        Assert.Equal(18, HttpRequestHead.HeadLength("GET / HTTP/1.1\r\n\r\nbody"u8));
    }
}
