using System.Collections.Concurrent;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Actors.Observability;
using Flannel.Actors.Serialization;
using Flannel.Testing;
using Xunit;

namespace Flannel.Actors.Tests.Serialization;

/// <summary>A record no flannel serializer binds: Akka's JSON fallback would carry it (with its "$type") and build it.</summary>
public sealed record UnboundCommand(string Text);

/// <summary>Records what reaches it.</summary>
public sealed class SinkActor : ReceiveActor
{
    public SinkActor(ConcurrentQueue<object> received) => ReceiveAny(received.Enqueue);
}

/// <summary>Only bound message types cross the wire (WireConfig in LeaseConfig.Default).</summary>
public sealed class WireLockTests : IAsyncLifetime
{
    private const string Remote = """
        akka {
          loglevel = WARNING
          stdout-loglevel = OFF
          actor.provider = remote
          remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
          coordinated-shutdown.run-by-clr-shutdown-hook = off
        }
        """;

    private readonly List<ActorSystem> _systems = [];
    private readonly RecordingLoggerFactory _log = new();

    private ActorSystem Start(Config config, ILoggerFactoryHolder? logging = null)
    {
        var setup = BootstrapSetup.Create().WithConfig(config).And(new FlannelLoggingSetup(logging?.Factory ?? new RecordingLoggerFactory()));
        var system = ActorSystem.Create("flannel", setup);
        _systems.Add(system);
        return system;
    }

    private sealed record ILoggerFactoryHolder(Microsoft.Extensions.Logging.ILoggerFactory Factory);

    private static Address AddressOf(ActorSystem s) => ((ExtendedActorSystem)s).Provider.DefaultAddress;

    [Fact]
    public async Task An_unbound_record_sent_by_a_node_that_still_uses_json_is_never_delivered_and_the_refusal_is_logged()
    {
        var flannel = Start(ConfigurationFactory.ParseString(Remote).WithFallback(LeaseConfig.Default), new ILoggerFactoryHolder(_log));
        // The control: a node without the lock, so the test shows the message does arrive when nothing refuses it.
        var unlocked = Start(ConfigurationFactory.ParseString(Remote).WithFallback(ConfigurationFactory.ParseString(LeaseConfig.Hocon)));
        // The sender: lease bindings but Akka's JSON fallback still in place, as a node of an older build or an attacker.
        var sender = Start(ConfigurationFactory.ParseString(Remote).WithFallback(ConfigurationFactory.ParseString(LeaseConfig.Hocon)));

        var atFlannel = new ConcurrentQueue<object>();
        var atUnlocked = new ConcurrentQueue<object>();
        flannel.ActorOf(Props.Create(() => new SinkActor(atFlannel)), "sink");
        unlocked.ActorOf(Props.Create(() => new SinkActor(atUnlocked)), "sink");

        foreach (var target in new[] { flannel, unlocked })
        {
            var sink = sender.ActorSelection(new RootActorPath(AddressOf(target)) / "user" / "sink");
            sink.Tell(new UnboundCommand("rm -rf /"));
            // Sent after it on the same connection: once this arrived, the record before it has been handled.
            sink.Tell("after");
        }

        await Poll.UntilAsync(() => atUnlocked.Count == 2 && atFlannel.Contains("after"), TimeSpan.FromSeconds(15),
            "both sinks got the message sent after the unbound record");
        Assert.Equal([new UnboundCommand("rm -rf /"), "after"], atUnlocked.ToArray());
        Assert.Equal(["after"], atFlannel.ToArray());
        var refused = Assert.Single(_log.WithId(EventIds.WireMessageRefused.Id));
        Assert.Contains("bytes", refused.Message);
    }

    [Fact]
    public void Sending_an_unbound_type_fails_naming_the_type_and_the_bootstrap_probe_has_its_own_serializer()
    {
        var system = Start(ConfigurationFactory.ParseString(Remote).WithFallback(LeaseConfig.Default));
        var serializer = system.Serialization.FindSerializerFor(new UnboundCommand("x"));
        Assert.IsType<UnboundMessageSerializer>(serializer);
        Assert.Equal(1, serializer.Identifier);
        var e = Assert.Throws<SerializationException>(() => serializer.ToBinary(new UnboundCommand("x")));
        Assert.Contains(typeof(UnboundCommand).FullName!, e.Message);
        var incoming = Assert.Throws<SerializationException>(() =>
            system.Serialization.Deserialize("{\"$type\":\"System.IO.FileInfo, System.IO\"}"u8.ToArray(), 1, "System.IO.FileInfo, System.IO"));
        Assert.Contains("System.IO.FileInfo", incoming.Message);

        foreach (object message in new object[] { new BootstrapProbe(), new BootstrapProbeReply(true, ["akka.ssl.tcp://flannel@198.18.0.1:4053"]) })
        {
            var s = system.Serialization.FindSerializerFor(message);
            Assert.IsType<BootstrapProbeSerializer>(s);
            var back = system.Serialization.Deserialize(s.ToBinary(message), s.Identifier, Akka.Serialization.Serialization.ManifestFor(s, message));
            Assert.Equal(message.ToString(), back.ToString());
            if (message is BootstrapProbeReply reply)
                Assert.Equal(reply.Members, ((BootstrapProbeReply)back).Members);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Task.WhenAll(_systems.Select(s => s.Terminate()));
}
