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
}
