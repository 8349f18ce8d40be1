using Flannel.Net.Native;
using Flannel.Net.Packets;
using Xunit;

namespace Flannel.Net.Tests.Tun;

/// <summary>The kernel ABI sizes (x86_64/arm64) the data path relies on.</summary>
public unsafe class NativeLayoutTests
{
    [Fact]
    public void Struct_sizes_match_the_kernel()
    {
        Assert.Equal(56, sizeof(MsgHdr));
        Assert.Equal(64, sizeof(MMsgHdr));
        Assert.Equal(16, sizeof(IoVec));
        Assert.Equal(16, sizeof(SockAddrIn));
        Assert.Equal(16, sizeof(CmsgHdr));
        Assert.Equal(8, sizeof(PollFd));
        Assert.Equal(40, sizeof(IfReq));
        Assert.Equal(8, sizeof(SockFilter));
        Assert.Equal(16, sizeof(SockFprog));
        Assert.Equal(10, sizeof(VirtioNetHdr));
    }

    [Fact]
    public void Ifreq_takes_a_valid_name_and_refuses_bad_ones()
    {
        Assert.Equal("flannel0", IfReq.For("flannel0").GetName());
        Assert.Throws<ArgumentException>(() => IfReq.For(""));
        Assert.Throws<ArgumentException>(() => IfReq.For("a-name-that-is-too-long"));
        Assert.Throws<ArgumentException>(() => IfReq.For("bad/name"));
    }
}
