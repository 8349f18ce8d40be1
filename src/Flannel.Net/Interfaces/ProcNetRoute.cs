using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace Flannel.Net.Interfaces;

/// <summary>Parses /proc/net/route: hex fields in host byte order, as the kernel prints the raw __be32 values.</summary>
public static class ProcNetRoute
{
    /// <summary>
    /// The calling thread's namespace: /proc/net follows the process's main thread, which differs from a thread that
    /// entered another namespace with setns(2).
    /// </summary>
    public const string DefaultPath = "/proc/thread-self/net/route";
    private const int RtfUp = 0x0001;

    public static IReadOnlyList<RouteEntry> Parse(string text)
    {
        var routes = new List<RouteEntry>();
        foreach (var line in text.Split('\n').Skip(1))
        {
            var f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8) continue;
            if (!uint.TryParse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var dst)
                || !uint.TryParse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var gw)
                || !int.TryParse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags)
                || !int.TryParse(f[6], NumberStyles.Integer, CultureInfo.InvariantCulture, out var metric)
                || !uint.TryParse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
                throw new FormatException($"/proc/net/route: malformed line \"{line.Trim()}\"");
            if ((flags & RtfUp) == 0) continue;
            var prefix = System.Numerics.BitOperations.PopCount(mask);
            routes.Add(new RouteEntry(f[0], new IPNetwork(ToAddress(dst & mask), prefix), ToAddress(gw), metric));
        }
        return routes;
    }

    public static IReadOnlyList<RouteEntry> Read(string path = DefaultPath) => Parse(File.ReadAllText(path));

    // The kernel prints the in-memory value with %08X, so the bytes of the host-order integer are the address bytes.
    private static IPAddress ToAddress(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        if (BitConverter.IsLittleEndian) BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        else BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
