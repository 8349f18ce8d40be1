using System.Text.Json;
using Flannel.Net.Netlink;

namespace Flannel.Net.Backends;

/// <summary>The vxlan backend data flannel puts in a lease: {"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}.</summary>
public sealed record VxlanLeaseData(int Vni, MacAddress VtepMac)
{
    public string ToJson() => $"{{\"VNI\":{Vni},\"VtepMAC\":\"{VtepMac}\"}}";

    /// <summary>Parses a peer's backend data (keys case-insensitive like Go's encoding/json); null when absent or invalid.</summary>
    public static VxlanLeaseData? TryParse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            int? vni = null;
            MacAddress? mac = null;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name.Equals("VNI", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.Number &&
                    p.Value.TryGetInt32(out var v))
                    vni = v;
                else if (p.Name.Equals("VtepMAC", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.String &&
                         MacAddress.TryParse(p.Value.GetString(), out var m))
                    mac = m;
            }
            return mac is { } ok && !ok.IsZero ? new VxlanLeaseData(vni ?? 1, ok) : null;
        }
        catch (JsonException)
        {
            return null; // a peer advertising garbage is ignored (reported as Ignored by Inspect), not fatal
        }
    }
}
