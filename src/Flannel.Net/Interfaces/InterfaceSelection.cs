using System.Net;
using System.Text.RegularExpressions;

namespace Flannel.Net.Interfaces;

/// <summary>The flags that choose the external interface (flannel's --iface, --iface-regex, --iface-can-reach, --public-ip).</summary>
public sealed record InterfaceSelection
{
    public IReadOnlyList<string> Iface { get; init; } = [];
    public IReadOnlyList<Regex> IfaceRegex { get; init; } = [];
    public IPAddress? IfaceCanReach { get; init; }
    public IPAddress? PublicIp { get; init; }
}
