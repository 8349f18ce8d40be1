using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Flannel.Net.SubnetEnv;

namespace Flannel.Cni;

/// <summary>
/// The `flannel` CNI plugin (flanneld started with CNI_COMMAND set): renders a delegate config from subnet.env and runs
/// the delegate (bridge by default) from CNI_PATH. Errors are CNI error JSON on stdout with exit code 1; a failing
/// delegate's own output and exit code are relayed unchanged.
/// </summary>
public static partial class CniPlugin
{
    public static readonly IReadOnlyList<string> SupportedVersions = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"];
    public const string CurrentVersion = "1.0.0";

    public static int Run(Stream stdin, Stream stdout, TextWriter stderr, CniEnvironment env)
    {
        var cniVersion = CurrentVersion;
        try
        {
            var command = env.Command ?? throw new CniException(CniErrorCodes.InvalidEnvironment, "required env variables [CNI_COMMAND] missing");
            if (command == "VERSION")
            {
                Write(stdout, new JsonObject
                {
                    ["cniVersion"] = CurrentVersion,
                    ["supportedVersions"] = new JsonArray(SupportedVersions.Select(v => (JsonNode)v).ToArray()),
                });
                return 0;
            }
            if (command is not ("ADD" or "DEL" or "CHECK"))
                throw new CniException(CniErrorCodes.InvalidEnvironment, $"unknown CNI_COMMAND: {command}");

            RequireEnvironment(command, env);
            var conf = FlannelNetConf.Parse(ReadAll(stdin));
            if (conf.CniVersion.Length > 0) cniVersion = conf.CniVersion;
            CheckVersion(conf.CniVersion);

            var result = command switch
            {
                "ADD" => Add(conf, env, stderr),
                "DEL" => Del(conf, env, stderr),
                _ => Check(conf, env, stderr),
            };
            if (result is null) return 0;
            if (result.ExitCode != 0 && result.Stdout.AsSpan().Trim((byte)'\n').IsEmpty)
            {
                // A delegate that died without an error JSON still owes the runtime one.
                WriteError(stdout, cniVersion, CniErrorCodes.Internal,
                    $"failed to delegate {command.ToLowerInvariant()}: netplugin failed with no error message (exit {result.ExitCode})",
                    result.Stderr.Trim());
                return result.ExitCode;
            }
            stdout.Write(result.Stdout);
            stdout.Flush();
            if (result.Stderr.Length > 0) stderr.Write(result.Stderr);
            return result.ExitCode;
        }
        catch (CniException e)
        {
            WriteError(stdout, cniVersion, e.Code, e.Message, e.Details);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            WriteError(stdout, cniVersion, CniErrorCodes.IoFailure, e.Message, null);
            return 1;
        }
    }

    /// <summary>ADD: render, store for DEL, run the delegate and relay its result.</summary>
    private static DelegateResult Add(FlannelNetConf conf, CniEnvironment env, TextWriter stderr)
    {
        var subnetEnv = ReadSubnetEnv(conf.SubnetFile);
        var rendered = DelegateConfig.Render(conf, subnetEnv);
        var json = DelegateConfig.Serialize(rendered);
        ScratchStore.Save(conf.DataDir, env.ContainerId!, json);
        return DelegatePlugin.Invoke("ADD", rendered["type"]!.GetValue<string>(), Encoding.UTF8.GetBytes(json), env);
    }

    /// <summary>DEL: replay the stored delegate config; nothing stored means already deleted (success, per spec).</summary>
    private static DelegateResult? Del(FlannelNetConf conf, CniEnvironment env, TextWriter stderr)
    {
        var stored = ScratchStore.Load(conf.DataDir, env.ContainerId!);
        if (stored is null) return null;
        var type = StoredType(stored);
        if (type is null)
        {
            // Like flannel: an unreadable file cannot be replayed; the veth goes with the netns, so do not block the runtime.
            stderr.WriteLine($"flannel: {ScratchStore.PathFor(conf.DataDir, env.ContainerId!)}: not a delegate config, ignored");
            ScratchStore.Remove(conf.DataDir, env.ContainerId!);
            return null;
        }
        var withRuntime = WithRuntimeConfig(stored, conf.RuntimeConfig);
        var result = DelegatePlugin.Invoke("DEL", type, withRuntime, env);
        if (result.ExitCode == 0) ScratchStore.Remove(conf.DataDir, env.ContainerId!);
        return result;
    }

    /// <summary>
    /// CHECK: like flannel's plugin it does not call the delegate (bridge's CHECK rejects the gateway-less route to
    /// FLANNEL_NETWORK that host-local reports, so delegating would fail every healthy pod). It does verify what the
    /// plugin owns: a supported version, a valid config and a readable subnet.env (the node still holds a lease).
    /// </summary>
    private static DelegateResult? Check(FlannelNetConf conf, CniEnvironment env, TextWriter stderr)
    {
        if (Version.TryParse(conf.CniVersion, out var v) && v < new Version(0, 4, 0))
            throw new CniException(CniErrorCodes.IncompatibleVersion, "config version does not allow CHECK");
        DelegateConfig.Render(conf, ReadSubnetEnv(conf.SubnetFile));
        return null;
    }

    private static SubnetEnv ReadSubnetEnv(string path)
    {
        try { return SubnetEnvFile.Read(path); }
        catch (SubnetEnvException e) { throw new CniException(CniErrorCodes.IoFailure, $"loadFlannelSubnetEnv failed: {e.Message}"); }
    }

    private static string? StoredType(byte[] stored)
    {
        try
        {
            return JsonNode.Parse(stored) is JsonObject o && o["type"] is JsonValue t && t.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
        }
        catch (System.Text.Json.JsonException) { return null; }
    }

    /// <summary>flannel hands DEL's runtimeConfig (e.g. portMappings) to the delegate as well.</summary>
    private static byte[] WithRuntimeConfig(byte[] stored, JsonObject? runtimeConfig)
    {
        if (runtimeConfig is null) return stored;
        var node = (JsonObject)JsonNode.Parse(stored)!;
        node["runtimeConfig"] = runtimeConfig.DeepClone();
        return Encoding.UTF8.GetBytes(DelegateConfig.Serialize(node));
    }

    private static void RequireEnvironment(string command, CniEnvironment env)
    {
        var required = command == "DEL"
            ? new[] { "CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH" }
            : new[] { "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH" };
        var missing = required.Where(k => env.Get(k) is null).ToList();
        if (missing.Count > 0)
            throw new CniException(CniErrorCodes.InvalidEnvironment, $"required env variables [{string.Join(',', missing)}] missing");
        // The container ID becomes a file name under dataDir: the spec's character set keeps it from escaping it.
        if (!ContainerIdPattern().IsMatch(env.ContainerId!))
            throw new CniException(CniErrorCodes.InvalidEnvironment, "invalid characters in containerID", env.ContainerId);
    }

    private static void CheckVersion(string version)
    {
        // No cniVersion (an old single .conf like kube-flannel-cfg's) is accepted and simply not passed on.
        if (version.Length == 0 || SupportedVersions.Contains(version)) return;
        throw new CniException(CniErrorCodes.IncompatibleVersion, "incompatible CNI versions",
            $"config is \"{version}\", plugin supports [\"{string.Join("\" \"", SupportedVersions)}\"]");
    }

    private static byte[] ReadAll(Stream stdin)
    {
        using var ms = new MemoryStream();
        stdin.CopyTo(ms);
        return ms.ToArray();
    }

    private static void WriteError(Stream stdout, string cniVersion, int code, string msg, string? details)
    {
        var error = new JsonObject { ["cniVersion"] = cniVersion, ["code"] = code, ["msg"] = msg };
        if (!string.IsNullOrEmpty(details)) error["details"] = details;
        Write(stdout, error);
    }

    private static void Write(Stream stdout, JsonObject json)
    {
        stdout.Write(Encoding.UTF8.GetBytes(json.ToJsonString() + "\n"));
        stdout.Flush();
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$")]
    private static partial Regex ContainerIdPattern();
}
