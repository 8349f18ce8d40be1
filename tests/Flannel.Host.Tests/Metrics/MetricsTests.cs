using System.Net;
using System.Text.RegularExpressions;
using Flannel.Actors.Cmd;
using Flannel.Actors.Observability;
using Flannel.Host.Metrics;
using Flannel.Actors.Node;
using Flannel.Host.Health;
using Flannel.Host.Tests.Ctl;
using Xunit;

namespace Flannel.Host.Tests.Metrics;

/// <summary>The Prometheus collectors read from a (fake) agent at scrape time and from the actor layer's instruments.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private readonly FakeLeaseTable _leases = new(
        FakeLeaseTable.Lease("10.5.1.0/24", "node-0", "127.0.0.1"),
        FakeLeaseTable.Lease("10.5.2.0/24", "node-1", "192.0.2.2"),
        FakeLeaseTable.Lease("10.5.9.0/24", "node-9", "192.0.2.9", TimeSpan.FromMinutes(-1)));
    private volatile PeersView _peers = Peers(tx: 10, rx: 7, strangers: 4);
    private CtlCluster _cluster = null!;
    private FlannelMetrics _metrics = null!;
    private InstrumentBridge _bridge = null!;

    public async Task InitializeAsync()
    {
        var ctx = new CmdContext
        {
            NodeName = "node-0",
            Leases = _leases,
            Peers = _ => Task.FromResult(_peers),
            Routes = _ => Task.FromResult(new RoutesView("udp",
            [
                new RouteRow("10.5.2.0/24", "192.0.2.2", RouteRow.InSync, "d", "d", []),
                new RouteRow("10.5.3.0/24", "192.0.2.3", RouteRow.Drifted, "d", "(missing)", ["route missing"]),
                new RouteRow("10.5.4.0/24", "192.0.2.4", RouteRow.Ignored, "-", "(missing)", []),
            ])),
        };
        _cluster = await CtlCluster.StartAsync(1, _ => ctx);
        _metrics = FlannelMetrics.Create();
        AgentScraper.Attach(_metrics, _cluster.Nodes[0], ctx);
        _bridge = new InstrumentBridge(_metrics);
    }

    public async Task DisposeAsync()
    {
        _bridge.Dispose();
        await _cluster.DisposeAsync();
    }

    private static PeersView Peers(long tx, long rx, long strangers) => new("udp",
        [new PeerRow("10.5.2.0/24", "192.0.2.2", "udp", tx, tx * 100, rx, rx * 100, [], null, null)],
        [new DropCount("rx", "stranger", strangers), new DropCount("tx", "no_route", 1)],
        new TunnelTotals(tx, tx * 100, rx, rx * 100) { Coalescing = new(rx / 3, rx / 2, rx / 4, rx / 3, 1) });

    private static double Value(string text, string series)
    {
        var m = Regex.Match(text, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"series {series} not in:\n{text}");
        return double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Scrape_reads_leases_peers_cluster_and_ddata()
    {
        var text = await _metrics.ScrapeAsync();

        Assert.Equal(2, Value(text, "flannel_leases_known"));
        Assert.Equal(1, Value(text, "flannel_leases_held"));
        Assert.Equal(1, Value(text, "flannel_leases_expired"));
        Assert.Equal(2, Value(text, "flannel_peers_known"));
        Assert.Equal(1, Value(text, "flannel_peers_programmed"));
        Assert.Equal(1, Value(text, "flannel_peers_drifted"));
        Assert.Equal(1, Value(text, "flannel_cluster_members{status=\"Up\"}"));
        Assert.Equal(0, Value(text, "flannel_cluster_members{status=\"Down\"}"));
        Assert.Equal(1, Value(text, "flannel_cluster_is_leader"));
        Assert.Equal(1, Value(text, "flannel_ddata_replicas"));
        Assert.Equal(10, Value(text, "flannel_tunnel_packets_total{direction=\"tx\"}"));
        Assert.Equal(700, Value(text, "flannel_tunnel_bytes_total{direction=\"rx\"}"));
        Assert.Equal(4, Value(text, "flannel_tunnel_drops_total{direction=\"rx\",reason=\"stranger\"}"));
        Assert.DoesNotContain("flannel_scrape_errors_total{", text);
    }

    [Fact]
    public async Task Counters_move_with_traffic_and_recorded_events()
    {
        var backend = "test-" + Guid.NewGuid().ToString("N")[..8];
        await _metrics.ScrapeAsync();

        _peers = Peers(tx: 25, rx: 9, strangers: 6);
        FlannelInstruments.ReconcileRuns.Add(3, new KeyValuePair<string, object?>("backend", backend));
        FlannelInstruments.ReconcileRepairs.Add(2, new KeyValuePair<string, object?>("backend", backend));
        FlannelInstruments.LeaseRenewSeconds.Record(0.2, new KeyValuePair<string, object?>("result", "ok"));
        FlannelInstruments.BackendSwitches.Add(1, new("from", "udp"), new("to", backend));
        var text = await _metrics.ScrapeAsync();

        Assert.Equal(25, Value(text, "flannel_tunnel_packets_total{direction=\"tx\"}"));
        Assert.Equal(900, Value(text, "flannel_tunnel_bytes_total{direction=\"rx\"}"));
        Assert.Equal(6, Value(text, "flannel_tunnel_drops_total{direction=\"rx\",reason=\"stranger\"}"));
        Assert.Equal(3, Value(text, "flannel_tunnel_coalesced_writes_total{protocol=\"tcp\"}"));
        Assert.Equal(4, Value(text, "flannel_tunnel_coalesced_packets_total{protocol=\"tcp\"}"));
        Assert.Equal(2, Value(text, "flannel_tunnel_coalesced_writes_total{protocol=\"udp\"}"));
        Assert.Equal(3, Value(text, "flannel_tunnel_coalesced_packets_total{protocol=\"udp\"}"));
        Assert.Equal(1, Value(text, "flannel_tunnel_gso_refused_total"));
        Assert.Equal(3, Value(text, $"flannel_reconcile_runs_total{{backend=\"{backend}\"}}"));
        Assert.Equal(2, Value(text, $"flannel_reconcile_repairs_total{{backend=\"{backend}\",kind=\"\"}}"));
        Assert.True(Value(text, "flannel_lease_renew_seconds_count{result=\"ok\"}") >= 1);
        Assert.Equal(1, Value(text, $"flannel_backend_switch_total{{from=\"udp\",to=\"{backend}\"}}"));
    }

    [Fact]
    public async Task The_certificate_expiry_is_absent_without_TLS_and_exported_once_set()
    {
        // No sample line (HELP and TYPE are always there).
        Assert.DoesNotContain((await _metrics.ScrapeAsync()).Split('\n'),
            l => l.StartsWith("flannel_cluster_tls_certificate_expiry_timestamp_seconds ", StringComparison.Ordinal));
        _metrics.ClusterCertificateExpiry.Set(1_800_000_000);
        Assert.Equal(1_800_000_000, Value(await _metrics.ScrapeAsync(), "flannel_cluster_tls_certificate_expiry_timestamp_seconds"));
    }

    [Fact]
    public async Task A_failing_source_is_counted_not_fatal()
    {
        var metrics = FlannelMetrics.Create();
        AgentScraper.Attach(metrics, _cluster.Nodes[0], new CmdContext
        {
            Leases = _leases,
            Peers = _ => throw new InvalidOperationException("tunnel gone"),
        });

        var text = await metrics.ScrapeAsync();

        Assert.Equal(1, Value(text, "flannel_scrape_errors_total{source=\"peers\"}"));
        Assert.Equal(2, Value(text, "flannel_leases_known"));
    }

    [Fact]
    public async Task Metrics_are_served_at_slash_metrics()
    {
        await using var server = await HealthServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), new AgentStatus("node-a"),
            MetricsEndpoints.Routes(_metrics), CancellationToken.None);

        using var http = new HttpClient();
        var response = await http.GetAsync($"http://{server.Endpoint}/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(2, Value(text, "flannel_leases_known"));
        Assert.Contains("# TYPE flannel_tunnel_drops_total counter", text);
    }
}
