using System.Net;

namespace Flannel.Net.Interfaces;

/// <summary>
/// Chooses the external interface with flannel's rules (LookupExtIface): --iface entries (name or IP) in order, else
/// --iface-regex (each regex against interface IPv4 addresses first, then names), else the interface of the route to
/// --iface-can-reach, else the interface of the default route. --public-ip overrides the advertised address.
/// </summary>
public sealed class InterfaceSelector(IInterfaceSource source)
{
    public InterfaceSelector() : this(new SystemInterfaceSource()) { }

    public ExternalInterface Select(InterfaceSelection selection)
    {
        var interfaces = source.Interfaces();
        var chosen = selection switch
        {
            { Iface.Count: > 0 } => ByIface(selection.Iface, interfaces),
            { IfaceRegex.Count: > 0 } => ByRegex(selection, interfaces),
            { IfaceCanReach: { } target } => ByRoute(target, interfaces),
            _ => ByDefaultRoute(interfaces),
        };
        if (chosen.Mtu <= 0) throw new InterfaceSelectionException($"failed to determine MTU for {chosen.Name} interface");
        return selection.PublicIp is { } pub ? chosen with { PublicIp = pub } : chosen;
    }

    private static ExternalInterface ByIface(IReadOnlyList<string> entries, IReadOnlyList<HostInterface> interfaces)
    {
        foreach (var entry in entries)
        {
            if (IPAddress.TryParse(entry, out var ip))
            {
                foreach (var i in interfaces)
                    foreach (var (a, p) in i.IPv4Addresses)
                        if (a.Equals(ip)) return Make(i, a, p);
                continue;
            }
            var byName = interfaces.FirstOrDefault(i => i.Name == entry);
            if (byName != null) return WithFirstAddress(byName, $"--iface {entry}");
        }
        throw new InterfaceSelectionException(
            $"no interface matches --iface {string.Join(",", entries)} (available: {Available(interfaces)})");
    }

    private static ExternalInterface ByRegex(InterfaceSelection selection, IReadOnlyList<HostInterface> interfaces)
    {
        foreach (var regex in selection.IfaceRegex)
        {
            foreach (var i in interfaces)
                foreach (var (a, p) in i.IPv4Addresses)
                    if (regex.IsMatch(a.ToString())) return Make(i, a, p);
            foreach (var i in interfaces)
                if (regex.IsMatch(i.Name) && i.IPv4Addresses.Count > 0) return WithFirstAddress(i, $"--iface-regex {regex}");
        }
        throw new InterfaceSelectionException(
            $"no interface matches --iface-regex {string.Join(",", selection.IfaceRegex)} (available: {Available(interfaces)})");
    }

    private ExternalInterface ByRoute(IPAddress target, IReadOnlyList<HostInterface> interfaces)
    {
        var route = source.Routes()
            .Where(r => r.Destination.Contains(target))
            .OrderByDescending(r => r.Destination.PrefixLength).ThenBy(r => r.Metric)
            .FirstOrDefault()
            ?? throw new InterfaceSelectionException($"no route to --iface-can-reach {target}");
        var iface = interfaces.FirstOrDefault(i => i.Name == route.Interface)
            ?? throw new InterfaceSelectionException($"--iface-can-reach {target}: route interface {route.Interface} not found");
        // Prefer the source address the kernel would pick (it may differ from the first address on a multi-address link).
        if (source.SourceAddressFor(target) is { } src)
            foreach (var (a, p) in iface.IPv4Addresses)
                if (a.Equals(src)) return Make(iface, a, p);
        return WithFirstAddress(iface, $"--iface-can-reach {target}");
    }

    private ExternalInterface ByDefaultRoute(IReadOnlyList<HostInterface> interfaces)
    {
        var route = source.Routes()
            .Where(r => r.Destination.PrefixLength == 0)
            .OrderBy(r => r.Metric)
            .FirstOrDefault()
            ?? throw new InterfaceSelectionException(
                "failed to get default interface: no default route (use --iface, --iface-regex or --iface-can-reach)");
        var iface = interfaces.FirstOrDefault(i => i.Name == route.Interface)
            ?? throw new InterfaceSelectionException($"default route interface {route.Interface} not found");
        return WithFirstAddress(iface, $"default route interface {iface.Name}");
    }

    private static ExternalInterface WithFirstAddress(HostInterface i, string what) =>
        i.IPv4Addresses.Count > 0
            ? Make(i, i.IPv4Addresses[0].Address, i.IPv4Addresses[0].PrefixLength)
            : throw new InterfaceSelectionException($"{what}: failed to find IPv4 address for interface {i.Name}");

    private static ExternalInterface Make(HostInterface i, IPAddress address, int prefix) =>
        new(i.Name, i.Index, address, prefix, i.Mtu, i.HardwareAddress);

    private static string Available(IReadOnlyList<HostInterface> interfaces) =>
        string.Join(", ", interfaces.Select(i => i.IPv4Addresses.Count > 0 ? $"{i.Name}={i.IPv4Addresses[0].Address}" : i.Name));
}
