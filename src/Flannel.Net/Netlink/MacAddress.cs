using System.Globalization;

namespace Flannel.Net.Netlink;

/// <summary>A 48-bit Ethernet address, printed the way flannel advertises it (lower-case, colon-separated).</summary>
public readonly record struct MacAddress(ulong Value)
{
    public static MacAddress FromBytes(ReadOnlySpan<byte> b)
    {
        if (b.Length != 6) throw new FormatException($"MAC address must be 6 bytes, got {b.Length}");
        ulong v = 0;
        foreach (var x in b) v = (v << 8) | x;
        return new MacAddress(v);
    }

    public static MacAddress Parse(string text)
    {
        if (TryParse(text, out var mac)) return mac;
        throw new FormatException($"'{text}' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
    }

    public static bool TryParse(string? text, out MacAddress mac)
    {
        mac = default;
        if (text is null) return false;
        var parts = text.Split(':', '-');
        if (parts.Length != 6) return false;
        ulong v = 0;
        foreach (var p in parts)
        {
            if (p.Length is < 1 or > 2 || !byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b)) return false;
            v = (v << 8) | b;
        }
        mac = new MacAddress(v);
        return true;
    }

    /// <summary>A random locally administered unicast address (what the kernel would pick, but chosen by us so it can be kept).</summary>
    public static MacAddress NewRandomLocal()
    {
        Span<byte> b = stackalloc byte[6];
        Random.Shared.NextBytes(b);
        b[0] = (byte)((b[0] & 0xfe) | 0x02);
        return FromBytes(b);
    }

    public byte[] ToBytes()
    {
        var b = new byte[6];
        for (var i = 0; i < 6; i++) b[i] = (byte)(Value >> (8 * (5 - i)));
        return b;
    }

    public bool IsZero => Value == 0;

    public override string ToString()
    {
        var b = ToBytes();
        return string.Create(17, b, (span, bytes) =>
        {
            for (var i = 0; i < 6; i++)
            {
                bytes[i].TryFormat(span[(i * 3)..], out _, "x2", CultureInfo.InvariantCulture);
                if (i < 5) span[i * 3 + 2] = ':';
            }
        });
    }
}
