using System.Net;
using System.Text;
using Flannel.Net.SubnetEnv;
using Xunit;
using Env = Flannel.Net.SubnetEnv.SubnetEnv;

namespace Flannel.Net.Tests.SubnetEnv;

public sealed class SubnetEnvFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "flannel-subnetenv-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static Env V4 => Env.ForLease(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.1.0/24"), 1450, ipMasq: true);

    [Fact]
    public void Format_is_flannels_byte_for_byte()
    {
        Assert.Equal("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n",
            SubnetEnvFile.Format(V4));
        Assert.Equal("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n",
            SubnetEnvFile.Format(V4 with { Mtu = 1472, IpMasq = false }));
    }

    [Fact]
    public void IPv6_lines_come_after_the_IPv4_ones_and_before_MTU()
    {
        var env = V4 with
        {
            Ipv6Network = IPNetwork.Parse("fc00::/48"),
            Ipv6SubnetAddress = IPAddress.Parse("fc00:0:0:1::1"),
            Ipv6SubnetPrefix = 64,
        };
        Assert.Equal("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n" +
                     "FLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00:0:0:1::1/64\n" +
                     "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", SubnetEnvFile.Format(env));
        Assert.Equal(env, SubnetEnvFile.Parse(SubnetEnvFile.Format(env)));
    }

    [Fact]
    public void ForLease_uses_the_first_host_address_and_the_lease_prefix()
    {
        var env = Env.ForLease(IPNetwork.Parse("10.10.0.0/28"), IPNetwork.Parse("10.10.0.12/30"), 1500, ipMasq: false);
        Assert.Equal("10.10.0.13/30", env.SubnetText);
        Assert.Equal(IPNetwork.Parse("10.10.0.12/30"), env.Lease);
        var carry = Env.ForLease(IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("10.1.255.0/24"), 1450, ipMasq: true);
        Assert.Equal("10.1.255.1/24", carry.SubnetText);
    }

    [Fact]
    public void Write_is_atomic_0644_lf_without_bom_and_leaves_no_temp_file()
    {
        var path = Path.Combine(_dir, "run", "flannel", "subnet.env");
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.GetDirectoryName(path)!).FullName, "subnet.env"), "old");

        SubnetEnvFile.Write(path, V4);

        Assert.Equal(Encoding.ASCII.GetBytes(SubnetEnvFile.Format(V4)), File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(path));
        Assert.Equal(["subnet.env"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        Assert.Equal(V4, SubnetEnvFile.Read(path));
    }

    [Fact]
    public void Parse_accepts_what_flannel_writes_plus_comments_blank_lines_and_crlf()
    {
        var env = SubnetEnvFile.Parse("# written by flanneld\r\n\r\nFLANNEL_NETWORK=10.244.0.0/16\r\nFLANNEL_SUBNET=10.244.7.1/24\r\nFLANNEL_MTU=1450\r\nFLANNEL_IPMASQ=false\r\n");
        Assert.Equal(Env.ForLease(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.7.0/24"), 1450, ipMasq: false), env);
        Assert.Equal(IPNetwork.Parse("10.244.7.0/24"), env.Lease);
    }

    [Theory]
    [InlineData("FLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_NETWORK is missing")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_SUBNET is missing")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_MTU is missing")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\n", "subnet.env: FLANNEL_IPMASQ is missing")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_NETWORK \"10.244.0.0\" is not a CIDR")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_SUBNET \"10.244.1.1\" is not ADDRESS/PREFIX")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_SUBNET \"10.244.1/24\" is not ADDRESS/PREFIX")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/33\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_SUBNET \"10.244.1.1/33\" is not ADDRESS/PREFIX")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=-1\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_MTU \"-1\" is not a positive integer")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=yes\n", "subnet.env: FLANNEL_IPMASQ \"yes\" is not true or false")]
    [InlineData("FLANNEL_NETWORK\n", "subnet.env: malformed line \"FLANNEL_NETWORK\" (expected KEY=VALUE)")]
    [InlineData("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", "subnet.env: FLANNEL_IPV6_SUBNET is missing")]
    public void Parse_errors_name_the_key_and_value(string text, string message)
    {
        Assert.Equal(message, Assert.Throws<SubnetEnvException>(() => SubnetEnvFile.Parse(text)).Message);
    }

    [Fact]
    public void Read_of_a_missing_file_says_so()
    {
        var path = Path.Combine(_dir, "subnet.env");
        Assert.Equal($"{path}: file not found (is flanneld running?)",
            Assert.Throws<SubnetEnvException>(() => SubnetEnvFile.Read(path)).Message);
    }
}
