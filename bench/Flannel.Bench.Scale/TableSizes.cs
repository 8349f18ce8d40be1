using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.DistributedData.Durable;
using Flannel.Actors.Leases;

namespace Flannel.Bench.Scale;

/// <summary>Bytes of the real lease table at N entries, serialized by the serializers the agent uses (not estimated).</summary>
public sealed class TableSizes : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("flannel", ConfigurationFactory.ParseString("""
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """).WithFallback(LeaseConfig.Default));

    /// <param name="Table">The whole LWWDictionary (what ReadResult, Gossip and the durable file carry).</param>
    /// <param name="Entry">One more lease as a delta of the map (what WriteMajority and DeltaPropagation carry).</param>
    public sealed record Sizes(int N, long Table, long Durable, long Entry);

    public Sizes Measure(int n)
    {
        _ = DistributedData.Get(_system); // registers the DData serializers
        // Single writer: every entry is written by the allocator (one member), as in the agent.
        var writer = Cluster.Get(_system).SelfUniqueAddress;
        var table = LWWDictionary<string, Lease>.Empty;
        for (var i = 0; i < n; i++) table = table.SetItem(writer, Subnet(i).ToString(), LeaseOf(i));
        var bigger = table.ResetDelta().SetItem(writer, Subnet(n).ToString(), LeaseOf(n));
        var tableBytes = Bytes(table);
        var durable = Bytes(new DurableDataEnvelope(table));
        var delta = bigger.Delta is { } d ? Bytes(d) : 0;
        return new Sizes(n, tableBytes, durable, delta);
    }

    private long Bytes(object o) => _system.Serialization.FindSerializerFor(o).ToBinary(o).LongLength;

    private static IPNetwork Subnet(int i) => new(new IPAddress([10, (byte)(i >> 8), (byte)(i & 0xff), 0]), 24);

    /// <summary>A lease as a cloud node would hold it: DNS-style node name, vxlan backend data, TLS owner address.</summary>
    private static Lease LeaseOf(int i)
    {
        var ip = $"172.{16 + (i >> 16)}.{(i >> 8) & 0xff}.{i & 0xff}";
        return new Lease(Subnet(i), $"ip-{ip.Replace('.', '-')}.eu-west-1.compute.internal", IPAddress.Parse(ip), "vxlan",
            $$"""{"VNI":1,"VtepMAC":"02:42:{{i >> 24 & 0xff:x2}}:{{i >> 16 & 0xff:x2}}:{{i >> 8 & 0xff:x2}}:{{i & 0xff:x2}}"}""",
            DateTimeOffset.UtcNow.AddHours(24), 1, $"akka.ssl.tcp://flannel@{ip}:4053");
    }

    public void Dispose() => _system.Terminate().Wait();
}
