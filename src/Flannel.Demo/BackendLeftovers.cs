using System.Text.RegularExpressions;

namespace Flannel.Demo;

/// <summary>
/// Checks a host for state of backends other than the one in force (a live switch must leave none): flannel.* vxlan
/// devices, the flannel0 TUN, routes of the pod network through another backend's device or gateway.
/// </summary>
public static partial class BackendLeftovers
{
    /// <summary>Lines describing what should not be there (empty = clean).</summary>
    public static IReadOnlyList<string> Find(TopologyHost h, string backend, System.Net.IPNetwork network)
    {
        var problems = new List<string>();
        var links = Netns.Exec(h.Namespace, "ip", ["-o", "link", "show"]).Stdout;
        var vxlanDevices = VxlanDevice().Matches(links).Select(m => m.Groups[1].Value).Distinct().ToList();
        var hasTun = TunDevice().IsMatch(links);
        if (backend != "vxlan") problems.AddRange(vxlanDevices.Select(d => $"{h.NodeName}: device {d} left by vxlan"));
        if (backend != "udp" && hasTun) problems.Add($"{h.NodeName}: device flannel0 left by udp");

        var prefix = network.BaseAddress.ToString().Split('.')[0] + ".";
        foreach (var route in Netns.Exec(h.Namespace, "ip", ["-4", "route", "show"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!route.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var viaVxlan = route.Contains("dev flannel.", StringComparison.Ordinal);
            var viaTun = route.Contains("dev flannel0", StringComparison.Ordinal);
            var viaUnderlay = route.Contains(" via ", StringComparison.Ordinal) && route.Contains("dev eth0", StringComparison.Ordinal);
            if ((viaVxlan && backend != "vxlan") || (viaTun && backend != "udp") || (viaUnderlay && backend != "host-gw"))
                problems.Add($"{h.NodeName}: route \"{route.Trim()}\" left by another backend");
        }
        return problems;
    }

    /// <summary>The device names the backend must have (flannel.1 for vxlan, flannel0 for udp, none for host-gw) missing on the host.</summary>
    public static IReadOnlyList<string> Missing(TopologyHost h, string backend)
    {
        var links = Netns.Exec(h.Namespace, "ip", ["-o", "link", "show"]).Stdout;
        return backend switch
        {
            "vxlan" when !VxlanDevice().IsMatch(links) => [$"{h.NodeName}: no flannel.<VNI> device"],
            "udp" when !TunDevice().IsMatch(links) => [$"{h.NodeName}: no flannel0 device"],
            _ => [],
        };
    }

    [GeneratedRegex(@"\d+: (flannel\.\d+)[:@]")]
    private static partial Regex VxlanDevice();

    [GeneratedRegex(@"\d+: flannel0[:@]")]
    private static partial Regex TunDevice();
}
