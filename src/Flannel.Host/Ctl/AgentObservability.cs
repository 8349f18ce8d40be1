using Akka.Actor;
using Flannel.Actors.Cmd;
using Flannel.Actors.Observability;
using Flannel.Host.Metrics;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Ctl;

/// <summary>
/// Everything an agent starts for operators in one call: the command host on the root-only Unix socket
/// (--cmd-socket, none when null) and, only when asked, 127.0.0.1:&lt;cmdPort&gt; (none when 0),
/// the Prometheus collectors read from the same <see cref="CmdContext"/> at scrape time, and the bridge from the actor
/// layer's instruments. Serve <see cref="Metrics"/> on the health port with <c>MetricsEndpoints.Routes(observability.Metrics)</c>.
/// </summary>
public sealed class AgentObservability : IAsyncDisposable
{
    private readonly InstrumentBridge _bridge;

    private AgentObservability(FlannelMetrics metrics, AgentScraper scraper, InstrumentBridge bridge, CommandHost? commandHost)
    {
        Metrics = metrics;
        Scraper = scraper;
        _bridge = bridge;
        CommandHost = commandHost;
    }

    public FlannelMetrics Metrics { get; }

    /// <summary>Reads the agent at scrape time; hand it to the next incarnation's Start (rejoin) to keep one registry.</summary>
    public AgentScraper Scraper { get; }

    /// <summary>Null when --cmd-socket is "" and --cmd-port is 0.</summary>
    public CommandHost? CommandHost { get; }

    /// <summary>Throws <see cref="CommandHostException"/> when the command socket or port cannot be served.</summary>
    /// <param name="previous">The observability of the agent's previous actor system (after a rejoin), already disposed:
    /// its metrics registry and scraper are reused, so /metrics stays one registry for the process's life.</param>
    public static AgentObservability Start(ActorSystem system, CmdContext ctx, string? cmdSocket, int cmdPort, FlannelMetrics? metrics = null,
        AgentObservability? previous = null)
    {
        metrics = previous?.Metrics ?? metrics ?? FlannelMetrics.Create();
        var logger = system.LoggerFactory().CreateLogger("Flannel.Ctl");
        AgentScraper scraper;
        if (previous is not null)
        {
            scraper = previous.Scraper;
            scraper.Retarget(system, ctx);
        }
        else scraper = AgentScraper.Attach(metrics, system, ctx, logger);
        var bridge = new InstrumentBridge(metrics);
        try
        {
            CommandHost? host;
            if (previous?.CommandHost is { } kept)
            {
                // The socket outlived the previous actor system (Detach): it serves this one from now on.
                kept.Retarget(system, ctx);
                host = kept;
            }
            else host = cmdSocket is null && cmdPort == 0
                ? null
                : CommandHost.Start(system, cmdSocket, cmdPort == 0 ? null : CommandHost.Loopback(cmdPort), ctx, logger);
            return new AgentObservability(metrics, scraper, bridge, host);
        }
        catch
        {
            bridge.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The actor system ends but the process goes on (a new incarnation follows): the command host stays open and
    /// answers "rejoining: <paramref name="why"/>" until the next <see cref="Start"/> with this as previous.
    /// </summary>
    public void Detach(string why)
    {
        CommandHost?.Detach(why);
        _bridge.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (CommandHost is not null) await CommandHost.DisposeAsync();
        _bridge.Dispose();
    }
}
