using Flannel.Demo;
using System.Net;
using System.Net.NetworkInformation;
using Flannel.Net.Interfaces;
using Flannel.Testing;

namespace Flannel.E2E.Backends;

/// <summary>
/// Two "hosts" (namespaces) on one veth underlay 192.168.90.0/24 and one "pod" namespace behind each host
/// (pod 10.244.N.2 with a veth to its host, host side 10.244.N.1/24, forwarding on). Built with `ip`; torn down on Dispose.
/// </summary>
public sealed class TwoHosts : IDisposable
{
    public static readonly IPNetwork Network = IPNetwork.Parse("10.244.0.0/16");
    private readonly List<IDisposable> _owned = new();

    public Host[] Hosts { get; }

    public TwoHosts(int underlayMtu = 1500)
    {
        try
        {
            var h1 = Own(new Netns("bh"));
            var h2 = Own(new Netns("bh"));
            ProcessRunner.Check("ip", $"link add u{h1.Name} netns {h1.Name} mtu {underlayMtu} type veth peer name u{h2.Name} netns {h2.Name} mtu {underlayMtu}".Split(' '));
            Hosts = [MakeHost(h1, 1, $"u{h1.Name}"), MakeHost(h2, 2, $"u{h2.Name}")];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private T Own<T>(T d) where T : IDisposable
    {
        _owned.Add(d);
        return d;
    }

    private Host MakeHost(Netns ns, int n, string underlay)
    {
        ns.Exec($"ip link set {underlay} name eth0");
        ns.Exec($"ip addr add 192.168.90.{n}/24 dev eth0");
        ns.Exec("ip link set eth0 up");
        ns.Exec("sysctl -qw net.ipv4.ip_forward=1");
        var pod = Own(new Netns("bp"));
        ns.Exec($"ip link add pod0 type veth peer name eth0 netns {pod.Name}");
        ns.Exec($"ip addr add 10.244.{n}.1/24 dev pod0");
        ns.Exec("ip link set pod0 up");
        pod.Exec($"ip addr add 10.244.{n}.2/24 dev eth0");
        pod.Exec("ip link set eth0 up");
        pod.Exec($"ip route add default via 10.244.{n}.1");
        var thread = Own(new NamespaceThread(ns));
        var index = int.Parse(ns.Exec("cat /sys/class/net/eth0/ifindex").Trim());
        var iface = new ExternalInterface("eth0", index, IPAddress.Parse($"192.168.90.{n}"), 24, ReadMtu(ns), PhysicalAddress.None);
        return new Host(ns, pod, thread, iface, IPNetwork.Parse($"10.244.{n}.0/24"), IPAddress.Parse($"10.244.{n}.2"));
    }

    private static int ReadMtu(Netns ns) => int.Parse(ns.Exec("cat /sys/class/net/eth0/mtu").Trim());

    /// <summary>Pings from one pod to an address; true when at least one reply came back.</summary>
    public static bool Ping(Host from, IPAddress to, int count = 2) =>
        from.Pod.TryExec($"ping -c {count} -i 0.2 -W 2 {to}").ExitCode == 0;

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }

    public sealed record Host(Netns Ns, Netns Pod, NamespaceThread Thread, ExternalInterface Iface, IPNetwork Lease, IPAddress PodIp);
}
