using System.Collections;
using System.Text.Json.Nodes;

namespace Flannel.Host.Options;

/// <summary>
/// flanneld used to be the CNI plugin too; the plugin is now its own executable (`flannel`, src/Flannel.Cni). A node
/// that still has flanneld copied as /opt/cni/bin/flannel (an old install-cni) would have the runtime start a whole agent
/// for every pod. With CNI_COMMAND set we answer as a CNI plugin would: a CNI error result on stdout naming the fix.
/// </summary>
public static class CniInvocationGuard
{
    public const string CommandVariable = "CNI_COMMAND";

    /// <summary>CNI's "invalid environment variables" error code (CNI spec, well-known error codes).</summary>
    public const int InvalidEnvironmentCode = 4;

    /// <summary>The CNI error result to print, or null when this is not a CNI invocation.</summary>
    public static string? Refusal(IDictionary environment)
    {
        var command = environment[CommandVariable] as string;
        if (string.IsNullOrEmpty(command)) return null;
        return new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["code"] = InvalidEnvironmentCode,
            ["msg"] = $"flanneld is the node agent, not the CNI plugin (called with {CommandVariable}={command})",
            ["details"] = "install the native flannel plugin as /opt/cni/bin/flannel (the install-cni-plugin init " +
                          "container of the DaemonSet copies it from /opt/flannel/flannel in the image)",
        }.ToJsonString();
    }
}
