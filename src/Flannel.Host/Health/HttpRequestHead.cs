using System.Text;

namespace Flannel.Host.Health;

/// <summary>
/// The request line of an HTTP/1.x request to the health port, parsed from the request head (everything up to the
/// empty line). Only what the health port needs: method and path (the query is dropped); headers are not read.
/// </summary>
public sealed record HttpRequestHead(string Method, string Path)
{
    /// <summary>The longest request head the health port reads; a longer one is refused with 431.</summary>
    public const int MaxHeadBytes = 8192;

    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>Index just past the empty line that ends the head in <paramref name="buffer"/>, or -1 when not there yet.</summary>
    public static int HeadLength(ReadOnlySpan<byte> buffer)
    {
        var i = buffer.IndexOf(HeadEnd);
        return i < 0 ? -1 : i + HeadEnd.Length;
    }

    /// <summary>
    /// Parses the request line of <paramref name="head"/>. Returns null with the reason in <paramref name="error"/> when
    /// it is not "METHOD SP /target SP HTTP/1.0|1.1" in printable ASCII.
    /// </summary>
    public static HttpRequestHead? Parse(ReadOnlySpan<byte> head, out string error)
    {
        var end = head.IndexOf("\r\n"u8);
        if (end < 0) { error = "request line not terminated by CRLF"; return null; }
        var line = head[..end];
        foreach (var b in line)
        {
            if (b is < 0x20 or > 0x7e) { error = "request line holds a byte that is not printable ASCII"; return null; }
        }
        var text = Encoding.ASCII.GetString(line);
        var parts = text.Split(' ');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0)) { error = "request line is not \"METHOD /path HTTP/1.x\""; return null; }
        var (method, target, version) = (parts[0], parts[1], parts[2]);
        if (version is not ("HTTP/1.1" or "HTTP/1.0")) { error = $"unsupported protocol version \"{version}\""; return null; }
        if (!method.All(char.IsAsciiLetterUpper)) { error = $"method \"{method}\" is not a token of upper-case letters"; return null; }
        if (target[0] != '/') { error = "request target is not an absolute path"; return null; }
        var q = target.IndexOf('?');
        error = "";
        return new HttpRequestHead(method, q < 0 ? target : target[..q]);
    }
}
