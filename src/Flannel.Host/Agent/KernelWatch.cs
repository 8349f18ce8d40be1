using Flannel.Net.Netlink;

namespace Flannel.Host.Agent;

/// <summary>Wakes the reconcile loop on rtnetlink notifications (links, addresses, routes, neighbours).</summary>
public static class KernelWatch
{
    /// <summary>Subscribes <paramref name="onChange"/>; dispose the result to stop listening.</summary>
    public static IDisposable Netlink(Action onChange)
    {
        var monitor = new NetlinkMonitor();
        monitor.Changed += _ => onChange();
        return monitor.Start();
    }
}
