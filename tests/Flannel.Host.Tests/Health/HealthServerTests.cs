using System.Net;
using System.Net.Sockets;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Host.Health;
using Xunit;

namespace Flannel.Host.Tests.Health;

public sealed class HealthServerTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Readyz_is_503_with_the_reasons_until_lease_backend_subnet_env_and_peers_are_done_then_200()
    {
        var status = new AgentStatus("node-a");
        var endpoint = new IPEndPoint(IPAddress.Loopback, FreePort());
        await using var server = await HealthServer.StartAsync(endpoint, status, null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{endpoint}/") };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        var notReady = await http.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        var body = await notReady.Content.ReadAsStringAsync();
        Assert.Contains("no lease yet", body);
        Assert.Contains("subnet.env not written", body);

        var lease = new Lease(IPNetwork.Parse("10.244.3.0/24"), "node-a", IPAddress.Parse("192.0.2.1"), "vxlan", null,
            DateTimeOffset.UtcNow.AddHours(24), 1);
        status.Update(s => s with { Lease = lease, BackendConfigured = true, SubnetEnvWritten = true, MasqApplied = true });
        notReady = await http.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Contains("peers not programmed", await notReady.Content.ReadAsStringAsync());

        status.Update(s => s with { PeersInSync = true, PeersDesired = 2, PeersProgrammed = 2, Leases = [lease] });
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);
    }

    [Fact]
    public async Task Status_is_not_served_on_the_health_port()
    {
        // The health port may listen on any address; the agent's full state is `flanneld ctl status`, root only.
        var status = new AgentStatus("node-a");
        var endpoint = new IPEndPoint(IPAddress.Loopback, FreePort());
        await using var server = await HealthServer.StartAsync(endpoint, status, null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{endpoint}/") };

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("status")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
    }

    [Fact]
    public async Task A_failed_agent_is_alive_but_never_ready()
    {
        var status = new AgentStatus("node-a");
        status.Update(s => s with
        {
            Lease = new Lease(IPNetwork.Parse("10.244.3.0/24"), "node-a", IPAddress.Parse("192.0.2.1"), "udp", null, DateTimeOffset.UtcNow.AddHours(1), 1),
            BackendConfigured = true, SubnetEnvWritten = true, MasqApplied = true, PeersInSync = true,
        });
        status.Fail("lease 10.244.3.0/24 lost: released by an operator");
        var endpoint = new IPEndPoint(IPAddress.Loopback, FreePort());
        await using var server = await HealthServer.StartAsync(endpoint, status, null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{endpoint}/") };
        var r = await http.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.Contains("released by an operator", await r.Content.ReadAsStringAsync());
    }

    /// <summary>Sends raw bytes to the server and returns everything it answers until it closes the connection.</summary>
    private static async Task<string> Raw(HealthServer server, byte[] request, bool closeSend = false)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Endpoint);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        if (closeSend) client.Client.Shutdown(SocketShutdown.Send);
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static Task<HealthServer> Start() =>
        HealthServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), new AgentStatus("node-a"), null, CancellationToken.None);

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request", "bad request: request line is not")]
    [InlineData("GET /healthz HTTP/3\r\n\r\n", "HTTP/1.1 400 Bad Request", "unsupported protocol version")]
    [InlineData("POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405 Method Not Allowed", "method POST not allowed")]
    [InlineData("GET /nothing HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found", "not found")]
    public async Task Bad_requests_get_a_clear_status_and_reason(string request, string statusLine, string reason)
    {
        await using var server = await Start();
        var answer = await Raw(server, System.Text.Encoding.ASCII.GetBytes(request));
        Assert.StartsWith(statusLine + "\r\n", answer);
        Assert.Contains("Connection: close", answer);
        Assert.Contains(reason, answer);
    }

    [Fact]
    public async Task A_head_longer_than_8_KiB_is_refused_with_431()
    {
        await using var server = await Start();
        var request = System.Text.Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nX-Fill: " + new string('a', HttpRequestHead.MaxHeadBytes));
        Assert.StartsWith("HTTP/1.1 431 ", await Raw(server, request));
    }

    [Fact]
    public async Task A_head_answer_has_the_length_but_no_body()
    {
        await using var server = await Start();
        var answer = await Raw(server, "HEAD /healthz HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
        Assert.Contains("Content-Length: 3\r\n", answer);
        Assert.EndsWith("\r\n\r\n", answer);
    }

    [Fact]
    public async Task A_client_that_closes_before_a_full_head_gets_nothing_and_the_server_keeps_serving()
    {
        await using var server = await Start();
        Assert.Equal("", await Raw(server, "GET /heal"u8.ToArray(), closeSend: true));
        using var http = new HttpClient { BaseAddress = new Uri($"http://{server.Endpoint}/") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
    }

    [Fact]
    public async Task Disposing_frees_the_port()
    {
        var server = await Start();
        var endpoint = server.Endpoint;
        await server.DisposeAsync();
        await using var again = await HealthServer.StartAsync(endpoint, new AgentStatus("node-a"), null, CancellationToken.None);
        Assert.Equal(endpoint, again.Endpoint);
    }
}
