using System.Text;
using System.Text.Json.Nodes;
using Flannel.Cni;
using Xunit;

namespace Flannel.Cni.Tests;

/// <summary>
/// The plugin against a fake delegate (a shell script on CNI_PATH that records what it was given), so the protocol is
/// tested without namespaces; tests/Flannel.E2E/Cni runs the real bridge/host-local plugins.
/// </summary>
public sealed class CniPluginTests : IDisposable
{
    private const string GoodEnv = "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";
    private readonly string _dir = Directory.CreateTempSubdirectory("flannel-cni-unit-").FullName;
    private string Bin => Path.Combine(_dir, "bin");
    private string DataDir => Path.Combine(_dir, "data");
    private string SubnetFile => Path.Combine(_dir, "subnet.env");
    private string Record => Path.Combine(_dir, "record");

    public CniPluginTests()
    {
        Directory.CreateDirectory(Bin);
        Directory.CreateDirectory(Record);
        File.WriteAllText(SubnetFile, GoodEnv);
        // Records stdin and CNI_COMMAND per call; FAKE_EXIT makes it fail with a CNI error like a real plugin would.
        WriteScript("bridge", """
            #!/bin/sh
            cat > "$RECORD/$CNI_COMMAND.json"
            echo "$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME" >> "$RECORD/calls"
            if [ -n "$FAKE_EXIT" ]; then
              echo '{"cniVersion":"1.0.0","code":11,"msg":"delegate says no"}'
              exit "$FAKE_EXIT"
            fi
            echo '{"cniVersion":"1.0.0","ips":[{"address":"10.244.1.2/24","gateway":"10.244.1.1"}]}'
            """);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void WriteScript(string name, string body)
    {
        var path = Path.Combine(Bin, name);
        File.WriteAllText(path, body.Replace("\r", "") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private string Conf(string extra = "") =>
        $$"""{"name":"cbr0","cniVersion":"1.0.0","type":"flannel","subnetFile":"{{SubnetFile}}","dataDir":"{{DataDir}}"{{extra}}}""";

    private (int Exit, string Stdout) Run(string command, string stdin, Dictionary<string, string>? overrides = null)
    {
        var vars = new Dictionary<string, string>
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin",
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = "ctr-1",
            ["CNI_NETNS"] = "/var/run/netns/none",
            ["CNI_IFNAME"] = "eth0",
            ["CNI_PATH"] = "/nonexistent:" + Bin,
            ["RECORD"] = Record,
        };
        foreach (var (k, v) in overrides ?? []) vars[k] = v;
        foreach (var k in vars.Where(kv => kv.Value == "").Select(kv => kv.Key).ToList()) vars.Remove(k);
        using var stdout = new MemoryStream();
        var exit = CniPlugin.Run(new MemoryStream(Encoding.UTF8.GetBytes(stdin)), stdout, TextWriter.Null, new CniEnvironment(vars));
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()));
    }

    private static JsonObject Error(string stdout) => (JsonObject)JsonNode.Parse(stdout)!;

    [Fact]
    public void Add_stores_the_delegate_0600_runs_it_and_relays_its_result()
    {
        var (exit, stdout) = Run("ADD", Conf());
        Assert.Equal(0, exit);
        Assert.Contains("\"address\":\"10.244.1.2/24\"", stdout);
        var stored = Path.Combine(DataDir, "ctr-1");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(stored));
        Assert.Equal(File.ReadAllText(stored), File.ReadAllText(Path.Combine(Record, "ADD.json")));
        Assert.Contains("\"subnet\":\"10.244.1.0/24\"", File.ReadAllText(stored));
        Assert.Equal("ADD ctr-1 eth0\n", File.ReadAllText(Path.Combine(Record, "calls")));
    }

    [Fact]
    public void Del_replays_the_stored_config_then_removes_it_and_a_second_del_succeeds()
    {
        Assert.Equal(0, Run("ADD", Conf()).Exit);
        // DEL uses what ADD stored even if the subnet changed since.
        File.WriteAllText(SubnetFile, GoodEnv.Replace("10.244.1.1/24", "10.244.9.1/24"));
        Assert.Equal(0, Run("DEL", Conf(), new() { ["CNI_NETNS"] = "" }).Exit);
        Assert.Equal(File.ReadAllText(Path.Combine(Record, "ADD.json")), File.ReadAllText(Path.Combine(Record, "DEL.json")));
        Assert.False(File.Exists(Path.Combine(DataDir, "ctr-1")));
        var (exit, stdout) = Run("DEL", Conf());
        Assert.Equal(0, exit);
        Assert.Equal("", stdout);
        Assert.Equal("ADD ctr-1 eth0\nDEL ctr-1 eth0\n", File.ReadAllText(Path.Combine(Record, "calls")));
    }

    [Fact]
    public void A_failing_delegate_is_relayed_and_del_keeps_the_file_for_a_retry()
    {
        Assert.Equal(0, Run("ADD", Conf()).Exit);
        var (exit, stdout) = Run("DEL", Conf(), new() { ["FAKE_EXIT"] = "3" });
        Assert.Equal(3, exit);
        Assert.Equal(11, Error(stdout)["code"]!.GetValue<int>());
        Assert.Equal("delegate says no", Error(stdout)["msg"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(DataDir, "ctr-1")));
    }

    [Fact]
    public void A_delegate_that_dies_silently_still_yields_error_json()
    {
        WriteScript("crashy", "#!/bin/sh\necho 'segfault-ish' >&2\nexit 139");
        var (exit, stdout) = Run("ADD", Conf(",\"delegate\":{\"type\":\"crashy\"}"));
        Assert.True(exit == 139, stdout);
        Assert.Equal("failed to delegate add: netplugin failed with no error message (exit 139)", Error(stdout)["msg"]!.GetValue<string>());
        Assert.Equal("segfault-ish", Error(stdout)["details"]!.GetValue<string>());
    }

    [Fact]
    public void Check_validates_config_and_subnet_env_without_calling_the_delegate()
    {
        Assert.Equal(0, Run("ADD", Conf()).Exit);
        const string prev = ""","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.244.1.2/24"}]}""";
        Assert.Equal((0, ""), Run("CHECK", Conf(prev)));
        Assert.False(File.Exists(Path.Combine(Record, "CHECK.json")));
        var forbidden = Error(Run("CHECK", Conf(",\"delegate\":{\"name\":\"x\"}")).Stdout);
        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, forbidden["code"]!.GetValue<int>());
        File.WriteAllText(SubnetFile, GoodEnv.Replace("FLANNEL_MTU=1450\n", ""));
        var (exit, stdout) = Run("CHECK", Conf(prev));
        Assert.Equal(1, exit);
        Assert.Contains("FLANNEL_MTU is missing", Error(stdout)["msg"]!.GetValue<string>());
    }

    [Fact]
    public void Version_lists_the_supported_versions()
    {
        var (exit, stdout) = Run("VERSION", "");
        Assert.Equal(0, exit);
        Assert.Equal("""{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}""", stdout.Trim());
    }

    [Theory]
    [InlineData("FLANNEL_NETWORK")]
    [InlineData("FLANNEL_SUBNET")]
    [InlineData("FLANNEL_MTU")]
    [InlineData("FLANNEL_IPMASQ")]
    public void A_missing_subnet_env_key_is_named(string key)
    {
        File.WriteAllText(SubnetFile, string.Join('\n', GoodEnv.Split('\n').Where(l => !l.StartsWith(key + "="))));
        var (exit, stdout) = Run("ADD", Conf());
        Assert.Equal(1, exit);
        Assert.Equal(CniErrorCodes.IoFailure, Error(stdout)["code"]!.GetValue<int>());
        Assert.Contains($"{key} is missing", Error(stdout)["msg"]!.GetValue<string>());
        Assert.Equal("1.0.0", Error(stdout)["cniVersion"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(Record, "calls")));
    }

    [Fact]
    public void A_missing_subnet_env_file_says_so()
    {
        File.Delete(SubnetFile);
        var msg = Error(Run("ADD", Conf()).Stdout)["msg"]!.GetValue<string>();
        Assert.Contains("file not found", msg);
        Assert.Contains(SubnetFile, msg);
    }

    [Fact]
    public void Missing_environment_variables_are_listed()
    {
        var (exit, stdout) = Run("ADD", Conf(), new() { ["CNI_NETNS"] = "", ["CNI_PATH"] = "" });
        Assert.Equal(1, exit);
        Assert.Equal(CniErrorCodes.InvalidEnvironment, Error(stdout)["code"]!.GetValue<int>());
        Assert.Equal("required env variables [CNI_NETNS,CNI_PATH] missing", Error(stdout)["msg"]!.GetValue<string>());
    }

    [Fact]
    public void A_container_id_that_could_escape_the_data_dir_is_rejected()
    {
        var (exit, stdout) = Run("ADD", Conf(), new() { ["CNI_CONTAINERID"] = "../etc" });
        Assert.Equal(1, exit);
        Assert.Equal("invalid characters in containerID", Error(stdout)["msg"]!.GetValue<string>());
    }

    [Fact]
    public void Unsupported_versions_and_commands_are_errors()
    {
        var v = Error(Run("ADD", Conf().Replace("\"1.0.0\"", "\"9.9.9\"")).Stdout);
        Assert.Equal(CniErrorCodes.IncompatibleVersion, v["code"]!.GetValue<int>());
        Assert.Contains("9.9.9", v["details"]!.GetValue<string>());
        var check = Error(Run("CHECK", Conf().Replace("\"1.0.0\"", "\"0.3.1\"")).Stdout);
        Assert.Equal("config version does not allow CHECK", check["msg"]!.GetValue<string>());
        Assert.Equal("unknown CNI_COMMAND: GC2", Error(Run("GC2", Conf()).Stdout)["msg"]!.GetValue<string>());
    }

    [Fact]
    public void A_delegate_missing_from_CNI_PATH_is_reported()
    {
        var msg = Error(Run("ADD", Conf(",\"delegate\":{\"type\":\"macvlan-nope\"}")).Stdout)["msg"]!.GetValue<string>();
        Assert.Equal($"failed to find plugin \"macvlan-nope\" in path [/nonexistent {Bin}]", msg);
    }
}
