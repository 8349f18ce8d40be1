using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Flannel.Actors.Cmd;

namespace Flannel.Host.Ctl;

/// <summary>
/// The command host's wire format: the client sends one JSON request line; the host answers with JSON lines, one
/// "result" or "error" for ordinary commands, a stream of "item" lines for streaming ones (until the client
/// disconnects, or an "error"). Lines are UTF-8, '\n'-terminated.
/// </summary>
public static class CtlWire
{
    /// <summary>A request line longer than this is refused (it is a handful of words).</summary>
    public const int MaxRequestBytes = 64 * 1024;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
        // Compile-time serializers for the wire and view types (CtlJsonContext); reflection for anything else.
        TypeInfoResolver = JsonTypeInfoResolver.Combine(CtlJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };

    public static string Request(CmdRequest request) => JsonSerializer.Serialize(
        new WireRequest(request.Palette, request.Command, request.Args.ToList(), request.Switches.Order(StringComparer.Ordinal).ToList()), Json);

    /// <summary>Parses a request line; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static CmdRequest ParseRequest(string line)
    {
        WireRequest? wire;
        try { wire = JsonSerializer.Deserialize<WireRequest>(line, Json); }
        catch (JsonException e) { throw new FormatException($"request is not JSON: {e.Message}"); }
        if (wire is null) throw new FormatException("request is null");
        if (string.IsNullOrWhiteSpace(wire.Palette)) throw new FormatException("request has no 'palette'");
        if (string.IsNullOrWhiteSpace(wire.Command)) throw new FormatException("request has no 'command'");
        return new CmdRequest(wire.Palette, wire.Command, wire.Args ?? [],
            new HashSet<string>(wire.Switches ?? [], StringComparer.Ordinal));
    }

    public static string Result(object data) => Line(new WireResponse(Kinds.Result, CmdExitCodes.Ok, null, ToNode(data)));

    public static string Item(object data) => Line(new WireResponse(Kinds.Item, CmdExitCodes.Ok, null, ToNode(data)));

    public static string Error(string error, int exitCode) => Line(new WireResponse(Kinds.Error, exitCode, error, null));

    public static WireResponse ParseResponse(string line) =>
        JsonSerializer.Deserialize<WireResponse>(line, Json) ?? throw new FormatException("response is null");

    private static JsonNode? ToNode(object data) => JsonSerializer.SerializeToNode(data, data.GetType(), Json);

    private static string Line(WireResponse response) => JsonSerializer.Serialize(response, Json);

    public static class Kinds
    {
        public const string Result = "result";
        public const string Item = "item";
        public const string Error = "error";
    }

    public sealed record WireRequest(string Palette, string Command, List<string>? Args, List<string>? Switches);

    public sealed record WireResponse(string Kind, int ExitCode, string? Error, JsonNode? Data);
}
