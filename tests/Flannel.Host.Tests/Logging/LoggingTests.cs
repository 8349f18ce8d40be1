using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Flannel.Testing;
using Flannel.Actors.Observability;
using Flannel.Host.Logging;
using Flannel.Host.Options;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Flannel.Host.Tests.Ctl;
using Xunit;

namespace Flannel.Host.Tests.Logging;

[CollectionDefinition(nameof(ConsoleCapture), DisableParallelization = true)]
public sealed class ConsoleCapture;

/// <summary>`--log-format json`: one JSON object per line on stderr, event ids, Akka's events included.</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class LoggingTests
{
    private static List<JsonElement> Capture(Action<ILoggerFactory> log, LogFormat format = LogFormat.Json,
        LogLevel level = LogLevel.Information, Func<ILoggerFactory, ConcurrentWriter, Task>? async = null)
    {
        var original = Console.Error;
        var captured = new ConcurrentWriter();
        Console.SetError(captured);
        try
        {
            // Disposing the factory flushes the console logger's queue.
            using (var factory = FlannelLoggerFactory.Create(format, new LogLevelSwitch(level)))
            {
                log(factory);
                async?.Invoke(factory, captured).GetAwaiter().GetResult();
            }
        }
        finally
        {
            Console.SetError(original);
        }
        return captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    [Fact]
    public void Important_events_are_json_lines_with_event_ids_and_fields()
    {
        var lines = Capture(f =>
        {
            var logger = f.CreateLogger("Flannel.Leases");
            logger.LeaseAcquired("10.5.1.0/24", "node-0", "192.0.2.1", DateTimeOffset.Parse("2026-11-28T07:00:00Z"));
            logger.DriftRepaired("route", "10.5.2.0/24", "re-added via 192.0.2.2");
            logger.ConfigRefused("/etc/kube-flannel/net-conf.json", "Network: not a CIDR");
        });

        Assert.Equal(3, lines.Count);
        var acquired = lines[0];
        Assert.Equal(EventIds.LeaseAcquired.Id, acquired.GetProperty("EventId").GetInt32());
        Assert.Equal("Information", acquired.GetProperty("LogLevel").GetString());
        Assert.Equal("Flannel.Leases", acquired.GetProperty("Category").GetString());
        Assert.Equal("10.5.1.0/24", acquired.GetProperty("State").GetProperty("Subnet").GetString());
        Assert.StartsWith("lease acquired: 10.5.1.0/24 for node-0", acquired.GetProperty("Message").GetString());
        Assert.Equal(EventIds.DriftRepaired.Id, lines[1].GetProperty("EventId").GetInt32());
        Assert.Equal(EventIds.ConfigRefused.Id, lines[2].GetProperty("EventId").GetInt32());
        Assert.Equal("Error", lines[2].GetProperty("LogLevel").GetString());
    }

    [Fact]
    public void The_level_switch_filters_at_run_time()
    {
        var level = new LogLevelSwitch(LogLevel.Warning);
        var original = Console.Error;
        var captured = new ConcurrentWriter();
        Console.SetError(captured);
        try
        {
            using var factory = FlannelLoggerFactory.Create(LogFormat.Json, level);
            var logger = factory.CreateLogger("t");
            logger.PeerAdded("10.5.2.0/24", "192.0.2.2", "udp");
            level.Set("debug");
            logger.PeerRemoved("10.5.2.0/24", "192.0.2.2");
        }
        finally
        {
            Console.SetError(original);
        }

        var line = Assert.Single(captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(EventIds.PeerRemoved.Id, JsonDocument.Parse(line).RootElement.GetProperty("EventId").GetInt32());
    }

    [Theory]
    [InlineData(LogFormat.Json)]
    [InlineData(LogFormat.Text)]
    public void A_line_is_on_stderr_when_the_log_call_returns(LogFormat format)
    {
        // No queue and no thread of the logger's own: the line is written by the caller.
        var original = Console.Error;
        var captured = new ConcurrentWriter();
        Console.SetError(captured);
        try
        {
            using var factory = FlannelLoggerFactory.Create(format, new LogLevelSwitch(LogLevel.Information));
            factory.CreateLogger("Flannel.Routes").PeerAdded("10.5.2.0/24", "192.0.2.2", "vxlan");
            var line = Assert.Single(captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            if (format == LogFormat.Json)
                Assert.Equal(EventIds.PeerAdded.Id, JsonDocument.Parse(line).RootElement.GetProperty("EventId").GetInt32());
            else
                Assert.Matches($@"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z info: Flannel\.Routes\[{EventIds.PeerAdded.Id}\] .*10\.5\.2\.0/24", line);
        }
        finally
        {
            Console.SetError(original);
        }
    }

    [Fact]
    public void Akka_log_events_reach_the_same_json_sink()
    {
        var lines = Capture(_ => { }, async: async (factory, captured) =>
        {
            var setup = BootstrapSetupFor(factory);
            var system = ActorSystem.Create("logtest", setup);
            try
            {
                system.Log.Warning("replicator is {State}", "slow");
                // The bridge is an actor and the console logger writes from its own thread.
                await Poll.UntilAsync(() => captured.ToString().Contains("replicator is slow"), TimeSpan.FromSeconds(5),
                    "Akka's warning on stderr");
            }
            finally
            {
                await system.Terminate();
            }
        });

        var warning = Assert.Single(lines, l => l.GetProperty("Message").GetString() == "replicator is slow");
        Assert.Equal("Warning", warning.GetProperty("LogLevel").GetString());
        Assert.Equal("slow", warning.GetProperty("State").GetProperty("State").GetString());
    }

    private static Akka.Actor.Setup.ActorSystemSetup BootstrapSetupFor(ILoggerFactory factory) =>
        BootstrapSetup.Create()
            .WithConfig(AkkaLogging.Config(LogLevel.Information).WithFallback(ConfigurationFactory.ParseString("akka.stdout-loglevel = OFF")))
            .And(new FlannelLoggingSetup(factory));
}
