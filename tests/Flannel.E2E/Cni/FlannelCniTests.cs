using Flannel.Demo;
using System.Net;
using System.Text.Json.Nodes;
using Flannel.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Cni;

/// <summary>
/// The `flannel` CNI plugin against the real bridge/host-local plugins (Debian containernetworking-plugins): a "host"
/// namespace with a subnet.env, two pod namespaces wired up through ADD, then CHECK, VERSION and DEL.
/// </summary>
public sealed class FlannelCniTests : IDisposable
{
    private static int _counter;
    private readonly ITestOutputHelper _output;
    private readonly string _work = Directory.CreateTempSubdirectory("flannel-cni-e2e-").FullName;
    private readonly string _network = $"e2ecni{Environment.ProcessId % 100000}x{Interlocked.Increment(ref _counter)}";
    private readonly List<IDisposable> _cleanup = new();

    public FlannelCniTests(ITestOutputHelper output) => _output = output;

    private string HostLocalDir => Path.Combine("/var/lib/cni/networks", _network);
    private string DataDir => Path.Combine(_work, "flannel-data");

    public void Dispose()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--) _cleanup[i].Dispose();
        if (Directory.Exists(HostLocalDir)) Directory.Delete(HostLocalDir, recursive: true);
        Directory.Delete(_work, recursive: true);
    }

    private T Own<T>(T d) where T : IDisposable { _cleanup.Add(d); return d; }

    private string Config(string cniVersion = "1.0.0") => new JsonObject
    {
        ["cniVersion"] = cniVersion,
        ["name"] = _network,
        ["type"] = "flannel",
        ["subnetFile"] = Path.Combine(_work, "subnet.env"),
        ["dataDir"] = DataDir,
        ["delegate"] = new JsonObject { ["hairpinMode"] = true, ["isDefaultGateway"] = true },
    }.ToJsonString();

    [Fact]
    public void Pods_get_addresses_from_the_flannel_subnet_reach_each_other_and_are_released()
    {
        File.WriteAllText(Path.Combine(_work, "subnet.env"),
            "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
        var host = Own(new Netns("cnh"));
        var pods = new[] { Own(new Netns("cnp")), Own(new Netns("cnp")) };
        var cni = Own(new CniRuntime(host, _work));
        var subnet = IPNetwork.Parse("10.244.7.0/24");
        var config = Config();

        var version = cni.Invoke("VERSION", config, "none", null);
        Assert.Equal(0, version.ExitCode);
        Assert.Equal(["0.3.0", "0.3.1", "0.4.0", "1.0.0"],
            JsonNode.Parse(version.Stdout)!["supportedVersions"]!.AsArray().Select(v => v!.GetValue<string>()));
        _output.WriteLine($"VERSION took {version.Elapsed.TotalMilliseconds:F0} ms");

        var results = new JsonNode[2];
        var ips = new IPAddress[2];
        for (var i = 0; i < 2; i++)
        {
            var add = cni.Invoke("ADD", config, ContainerId(i), NetnsPath(pods[i]));
            Assert.True(add.ExitCode == 0, CniRuntime.Describe(add));
            _output.WriteLine($"ADD pod {i} took {add.Elapsed.TotalMilliseconds:F0} ms");
            results[i] = JsonNode.Parse(add.Stdout)!;
            var ip = results[i]["ips"]![0]!;
            var cidr = ip["address"]!.GetValue<string>();
            ips[i] = IPAddress.Parse(cidr.Split('/')[0]);
            Assert.True(subnet.Contains(ips[i]), $"{cidr} is not in {subnet}");
            Assert.EndsWith("/24", cidr);
            Assert.Equal("10.244.7.1", ip["gateway"]!.GetValue<string>());

            Assert.Contains($"inet {cidr}", pods[i].Exec("ip -4 -o addr show dev eth0"));
            Assert.Contains("mtu 1450", pods[i].Exec("ip -o link show dev eth0"));
            Assert.Contains("default via 10.244.7.1", pods[i].Exec("ip -4 route"));
            Assert.True(File.Exists(Path.Combine(HostLocalDir, ips[i].ToString())), "host-local did not record the allocation");
            var stored = Path.Combine(DataDir, ContainerId(i));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(stored));
            Assert.Contains("\"subnet\":\"10.244.7.0/24\"", File.ReadAllText(stored));
        }
        Assert.NotEqual(ips[0], ips[1]);
        Assert.Contains("inet 10.244.7.1/24", host.Exec("ip -4 -o addr show dev cni0"));
        Assert.Equal(2, VethsOnBridge(host));

        Ping(pods[0], ips[1]);
        Ping(pods[1], ips[0]);
        Ping(pods[0], IPAddress.Parse("10.244.7.1"));
        Ping(pods[1], IPAddress.Parse("10.244.7.1"));

        // CHECK (runtime passes the ADD result as prevResult) succeeds for a healthy pod, and fails once the node lost
        // its subnet.env (flanneld gone) with the missing key named.
        var check = cni.Invoke("CHECK", WithPrevResult(config, results[0]), ContainerId(0), NetnsPath(pods[0]));
        Assert.True(check.ExitCode == 0 && check.Stdout.Trim() == "", CniRuntime.Describe(check));
        var subnetEnv = File.ReadAllText(Path.Combine(_work, "subnet.env"));
        File.WriteAllText(Path.Combine(_work, "subnet.env"), subnetEnv.Replace("FLANNEL_IPMASQ=true\n", ""));
        var broken = cni.Invoke("CHECK", WithPrevResult(config, results[1]), ContainerId(1), NetnsPath(pods[1]));
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("FLANNEL_IPMASQ is missing", JsonNode.Parse(broken.Stdout)!["msg"]!.GetValue<string>());
        File.WriteAllText(Path.Combine(_work, "subnet.env"), subnetEnv);

        for (var i = 0; i < 2; i++)
        {
            var del = cni.Invoke("DEL", config, ContainerId(i), NetnsPath(pods[i]));
            Assert.True(del.ExitCode == 0, CniRuntime.Describe(del));
            Assert.False(File.Exists(Path.Combine(HostLocalDir, ips[i].ToString())), "host-local still holds the address");
            Assert.False(File.Exists(Path.Combine(DataDir, ContainerId(i))), "the stored delegate config was not removed");
            Assert.Equal("", pods[i].Exec("ip -o link show type veth").Trim());
        }
        Assert.Equal(0, VethsOnBridge(host));

        // A repeated DEL (runtimes retry) and a DEL for a container that was never added both succeed.
        Assert.Equal(0, cni.Invoke("DEL", config, ContainerId(0), NetnsPath(pods[0])).ExitCode);
        Assert.Equal(0, cni.Invoke("DEL", config, "never-added", null).ExitCode);
    }

    [Fact]
    public void A_broken_subnet_env_fails_add_with_a_cni_error_naming_the_key()
    {
        File.WriteAllText(Path.Combine(_work, "subnet.env"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_IPMASQ=true\n");
        var host = Own(new Netns("cnh"));
        var pod = Own(new Netns("cnp"));
        var cni = Own(new CniRuntime(host, _work));
        var add = cni.Invoke("ADD", Config(), "ctr-broken", NetnsPath(pod));
        Assert.Equal(1, add.ExitCode);
        var error = JsonNode.Parse(add.Stdout)!;
        Assert.Equal("1.0.0", error["cniVersion"]!.GetValue<string>());
        Assert.Contains("FLANNEL_MTU is missing", error["msg"]!.GetValue<string>());
        Assert.Equal("", pod.Exec("ip -o link show type veth").Trim());
        Assert.False(Directory.Exists(HostLocalDir));
    }

    [Fact]
    public void The_kube_flannel_conflist_entry_works_with_cni_0_3_1()
    {
        // What containerd hands the plugin for kube-flannel's 10-flannel.conflist: the flannel entry with the list's
        // name and cniVersion injected (plus our test paths).
        File.WriteAllText(Path.Combine(_work, "subnet.env"),
            "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.8.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n");
        var host = Own(new Netns("cnh"));
        var pod = Own(new Netns("cnp"));
        var cni = Own(new CniRuntime(host, _work));
        var config = Config("0.3.1");

        var add = cni.Invoke("ADD", config, "ctr-031", NetnsPath(pod));
        Assert.True(add.ExitCode == 0, CniRuntime.Describe(add));
        var result = JsonNode.Parse(add.Stdout)!;
        Assert.Equal("0.3.1", result["cniVersion"]!.GetValue<string>());
        var address = result["ips"]![0]!["address"]!.GetValue<string>();
        Assert.StartsWith("10.244.8.", address);
        Assert.Contains("mtu 1472", pod.Exec("ip -o link show dev eth0"));
        Ping(pod, IPAddress.Parse("10.244.8.1"));
        // FLANNEL_IPMASQ=false: the bridge masquerades for the pods (ipMasq true in the stored delegate).
        Assert.Contains("\"ipMasq\":true", File.ReadAllText(Path.Combine(DataDir, "ctr-031")));

        var check = cni.Invoke("CHECK", config, "ctr-031", NetnsPath(pod));
        Assert.Equal(1, check.ExitCode);
        Assert.Equal("config version does not allow CHECK", JsonNode.Parse(check.Stdout)!["msg"]!.GetValue<string>());

        var del = cni.Invoke("DEL", config, "ctr-031", NetnsPath(pod));
        Assert.True(del.ExitCode == 0, CniRuntime.Describe(del));
        Assert.False(File.Exists(Path.Combine(HostLocalDir, address.Split('/')[0])));
        Assert.Equal("", pod.Exec("ip -o link show type veth").Trim());
    }

    private string ContainerId(int i) => $"{_network}-pod{i}";

    private static string NetnsPath(Netns ns) => $"/var/run/netns/{ns.Name}";

    private static int VethsOnBridge(Netns host) =>
        host.Exec("ip -o link show master cni0").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    private static void Ping(Netns from, IPAddress to)
    {
        var (code, stdout, stderr) = from.TryExec($"ping -c 2 -i 0.2 -W 2 {to}");
        Assert.True(code == 0, $"ping {from.Name} -> {to} failed: {stdout} {stderr}");
    }

    private static string WithPrevResult(string config, JsonNode result)
    {
        var o = JsonNode.Parse(config)!.AsObject();
        o["prevResult"] = result.DeepClone();
        return o.ToJsonString();
    }
}
