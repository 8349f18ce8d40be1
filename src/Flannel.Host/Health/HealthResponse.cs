using System.Globalization;
using System.Text;

namespace Flannel.Host.Health;

/// <summary>One answer of the health port (always with Content-Length and Connection: close).</summary>
public sealed record HealthResponse(int Status, string ContentType, ReadOnlyMemory<byte> Body)
{
    public const string TextPlain = "text/plain; charset=utf-8";

    public static HealthResponse Text(int status, string body) => new(status, TextPlain, Encoding.UTF8.GetBytes(body));

    /// <summary>Status line and headers, ending with the empty line.</summary>
    public byte[] Head() => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"HTTP/1.1 {Status} {Reason(Status)}\r\nContent-Type: {ContentType}\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n"));

    public static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
