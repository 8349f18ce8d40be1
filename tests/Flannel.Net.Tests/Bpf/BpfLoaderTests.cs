using Flannel.Net.Bpf;
using Xunit;

namespace Flannel.Net.Tests.Bpf;

public sealed class BpfLoaderTests
{
    private static byte[] EmbeddedObject()
    {
        using var s = typeof(BpfUdpPath).Assembly.GetManifestResourceStream(BpfUdpPath.ObjectResource)
                      ?? throw new InvalidOperationException("the build did not embed the BPF object (clang missing?)");
        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return bytes;
    }

    [Fact]
    public void The_build_embeds_the_programs_and_the_loader_finds_their_maps_and_relocations()
    {
        Assert.True(BpfUdpPath.Built);
        var obj = BpfObject.Parse(EmbeddedObject());
        Assert.Equal(["config", "counters", "peer_ips", "peers"], obj.Maps.Select(m => m.Name).Order());
        Assert.Equal(["tc/egress", "tc/ingress"], obj.Programs.Select(p => p.Section).Order());
        Assert.All(obj.Programs, p => Assert.NotEmpty(p.MapRelocations));
        Assert.All(obj.Programs.SelectMany(p => p.MapRelocations.Select(r => p.Instructions[r.Offset])), code => Assert.Equal(0x18, code));
        // The counters map holds one slot per BpfCounter: the C enum and the C# enum agree in size.
        Assert.Equal((uint)Enum.GetValues<BpfCounter>().Length, obj.Maps.Single(m => m.Name == "counters").MaxEntries);
        Assert.Equal("Dual MIT/GPL", obj.License);
    }

    [Fact]
    public void A_program_the_verifier_refuses_fails_with_the_verifier_log()
    {
        // "exit" with r0 never written: the verifier refuses it and says why.
        var insns = new byte[] { 0x95, 0, 0, 0, 0, 0, 0, 0 };
        var e = Assert.Throws<BpfException>(() => BpfSyscall.LoadProgram("flannel_bad", BpfSyscall.ProgTypeSchedCls, insns, "GPL"));
        Assert.Contains("R0 !read_ok", e.VerifierLog);
        Assert.Contains("verifier log", e.Message);
    }

    [Fact]
    public void Programs_load_on_this_kernel()
    {
        BpfUdpPath.CheckLoads();
    }

    [Theory]
    [InlineData("{\"Datapath\":\"bpf\"}", true)]
    [InlineData("{\"datapath\":\"BPF\"}", true)]
    [InlineData("{\"Datapath\":\"tun\"}", false)]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("[1]", false)]
    [InlineData("{\"Datapath\":1}", false)]
    [InlineData("not json", false)]
    public void Lease_data_says_whether_a_peer_decapsulates_in_bpf(string? json, bool expected) =>
        Assert.Equal(expected, UdpLeaseData.DecapsInBpf(json));
}
