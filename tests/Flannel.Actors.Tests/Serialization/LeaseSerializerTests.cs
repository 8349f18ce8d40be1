using System.Net;
using System.Text;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Flannel.Actors.Serialization;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.Actors.Tests.Serialization;

public sealed class LeaseSerializerTests() : TestKit(LeaseConfig.Default)
{
    private static readonly Lease Sample = new(IPNetwork.Parse("10.244.3.0/24"), "node-a", IPAddress.Parse("192.0.2.7"), "vxlan",
        """{"VNI":1,"VtepMAC":"02:00:00:00:00:01"}""", DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_123), 42);

    private T RoundTrip<T>(T message) where T : notnull
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<LeaseSerializer>(serializer);
        var bytes = serializer.ToBinary(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        return (T)Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
    }

    [Fact]
    public void Lease_round_trips_and_is_bound_by_the_default_config()
    {
        Assert.Equal(Sample, RoundTrip(Sample));
        Assert.Equal(Sample with { BackendData = null }, RoundTrip(Sample with { BackendData = null }));
        Assert.Equal(LeaseSerializer.SerializerId, Sys.Serialization.FindSerializerFor(Sample).Identifier);
    }

    [Fact]
    public void Lease_wire_format_is_plain_json()
    {
        var json = Encoding.UTF8.GetString(Sys.Serialization.FindSerializerFor(Sample).ToBinary(Sample));
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var r = doc.RootElement;
        Assert.Equal("10.244.3.0/24", r.GetProperty("Subnet").GetString());
        Assert.Equal("node-a", r.GetProperty("Node").GetString());
        Assert.Equal("192.0.2.7", r.GetProperty("PublicIp").GetString());
        Assert.Equal("vxlan", r.GetProperty("BackendType").GetString());
        Assert.Equal(Sample.BackendData, r.GetProperty("BackendData").GetString());
        Assert.Equal(1_800_000_000_123, r.GetProperty("ExpirationUnixMs").GetInt64());
        Assert.Equal(42, r.GetProperty("Version").GetInt64());
    }

    [Fact]
    public void Allocator_protocol_round_trips()
    {
        var conf = NetConf.Parse("""{"Network":"10.244.0.0/16","SubnetLen":25,"SubnetMin":"10.244.4.0","SubnetMax":"10.244.9.128"}""");
        var claim = new LeaseClaim("node-a", IPAddress.Parse("192.0.2.7"), "udp", null, IPNetwork.Parse("10.244.5.0/25"), null,
            conf, TimeSpan.FromHours(24));
        var request = RoundTrip(new ClaimRequest(7, claim));
        Assert.Equal(7, request.RequestId);
        Assert.Equal(claim with { Conf = request.Claim.Conf }, request.Claim);
        // Only the IPv4 allocation range travels; it is all the allocator looks at.
        Assert.Equal(conf.Network, request.Claim.Conf.Network);
        Assert.Equal(conf.SubnetLen, request.Claim.Conf.SubnetLen);
        Assert.Equal(conf.SubnetMin, request.Claim.Conf.SubnetMin);
        Assert.Equal(conf.SubnetMax, request.Claim.Conf.SubnetMax);
        Assert.Equal(conf.EnumerateSubnets(), request.Claim.Conf.EnumerateSubnets());

        var podCidr = claim with { RequiredSubnet = IPNetwork.Parse("10.244.0.0/24"), PreviousSubnet = null };
        Assert.Equal(podCidr.RequiredSubnet, RoundTrip(new ClaimRequest(8, podCidr)).Claim.RequiredSubnet);

        Assert.Equal(new ClaimGranted(7, Sample, "own lease"), RoundTrip(new ClaimGranted(7, Sample, "own lease")));
        Assert.Equal(new ClaimRefused(7, "out of subnets", true), RoundTrip(new ClaimRefused(7, "out of subnets", true)));
        var release = new ReleaseRequest(9, Sample.Subnet, ReleaseKind.NodeDeleted, Force: true, "node-b", "kube");
        Assert.Equal(release, RoundTrip(release));
        Assert.Equal(new ReleaseDone(9, Sample.Subnet, true), RoundTrip(new ReleaseDone(9, Sample.Subnet, true)));
        Assert.Equal(new ReleaseRefused(9, "no majority"), RoundTrip(new ReleaseRefused(9, "no majority")));
    }

    [Fact]
    public void The_owner_round_trips_and_a_lease_written_before_owners_reads_as_unowned()
    {
        var owned = Sample with { Owner = "akka.tcp://flannel@198.18.0.1:4053" };
        Assert.Equal(owned, RoundTrip(owned));

        // Literally what the previous build stored in the replicated table.
        var old = """{"Subnet":"10.244.3.0/24","Node":"node-a","PublicIp":"192.0.2.7","BackendType":"vxlan","BackendData":"{\"VNI\":1,\"VtepMAC\":\"02:00:00:00:00:01\"}","ExpirationUnixMs":1800000000123,"Version":42}""";
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(Sample);
        Assert.Equal(Sample, serializer.FromBinary(Encoding.UTF8.GetBytes(old), "L"));
    }

    [Fact]
    public void A_release_request_from_an_older_build_counts_as_an_operator_release_without_force()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(Sample);

        var old = serializer.FromBinary(Encoding.UTF8.GetBytes("""{"RequestId":9,"Subnet":"10.244.3.0/24"}"""), "RQ");

        Assert.Equal(new ReleaseRequest(9, Sample.Subnet, ReleaseKind.Operator, Force: false, "(unknown)", "(unknown)"), old);
        var e = Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
            serializer.FromBinary(Encoding.UTF8.GetBytes("""{"RequestId":9,"Subnet":"10.244.3.0/24","Kind":"Everything"}"""), "RQ"));
        Assert.Equal("LeaseSerializer: unknown release kind \"Everything\"", e.Message);
    }

    [Fact]
    public void Unknown_manifest_is_a_clear_error()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(Sample);
        var e = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "ZZ"));
        Assert.Equal("LeaseSerializer: unknown manifest \"ZZ\"", e.Message);
    }
}
