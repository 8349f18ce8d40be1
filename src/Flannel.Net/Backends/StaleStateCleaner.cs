using System.Net;
using Flannel.Net.Config;
using Flannel.Net.Interfaces;
using Flannel.Net.Netlink;

namespace Flannel.Net.Backends;

/// <summary>
/// Removes at start what another backend or a previous run left behind (flannel issue #517): other flannel.* vxlan
/// devices (their neighbours, FDB entries and routes go with them), a flannel0 TUN when udp is not used, our routes outside
/// the current network or on devices the new backend does not use, and Go flannel's host-gw routes (proto boot via the
/// external interface) when host-gw is not used. The device the new backend is about to use is kept (vxlan keeps its MAC).
/// </summary>
public sealed class StaleStateCleaner(RtNetlink netlink)
{
    public const string TunName = "flannel0";

    /// <param name="backendType">The backend about to run.</param>
    /// <param name="keepDevice">Its device (flannel.&lt;VNI&gt; or the TUN name); null for host-gw.</param>
    /// <param name="network">The current flannel network.</param>
    /// <returns>What was removed, one line each.</returns>
    public IReadOnlyList<string> Clean(string backendType, string? keepDevice, IPNetwork network, ExternalInterface iface)
    {
        var removed = new List<string>();
        foreach (var link in netlink.GetLinks())
        {
            if (link.Name == keepDevice) continue;
            var staleVxlan = link.Kind == "vxlan" && link.Name.StartsWith("flannel.", StringComparison.Ordinal);
            var staleTun = link.Name == TunName && link.Kind == "tun";
            if (!staleVxlan && !staleTun) continue;
            netlink.DeleteLink(link.Index);
            removed.Add($"link {link.Name} ({link.Kind})");
        }

        var keepIndex = keepDevice is null ? (int?)null : netlink.GetLink(keepDevice)?.Index;
        foreach (var r in netlink.GetRoutes())
        {
            var inNetwork = network.Contains(r.Destination.BaseAddress) && r.Destination.PrefixLength >= network.PrefixLength;
            bool stale;
            if (r.Protocol == Rt.PROT_FLANNEL)
            {
                // Ours: keep what the new backend can still own; reconcile fixes the details.
                var onKeptDevice = r.OutIndex == keepIndex ||
                                   (r.OutIndex == iface.Index && backendType is BackendConfig.HostGw or BackendConfig.Vxlan);
                stale = !inNetwork || !onKeptDevice;
            }
            else
            {
                // Go flannel's host-gw routes: per-peer subnets via a gateway on the external interface.
                stale = backendType != BackendConfig.HostGw && r.Protocol == Rt.PROT_BOOT && inNetwork &&
                        r.Destination.PrefixLength > network.PrefixLength && r.Gateway is not null && r.OutIndex == iface.Index;
            }
            if (!stale) continue;
            var description = netlink.Describe(r);
            netlink.DeleteRoute(r);
            removed.Add($"route {description} proto {r.Protocol}");
        }
        return removed;
    }
}
