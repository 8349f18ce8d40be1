namespace Flannel.Cni;

/// <summary>A CNI error, printed as the spec's error JSON on stdout with a non-zero exit.</summary>
public sealed class CniException(int code, string message, string? details = null) : Exception(message)
{
    public int Code { get; } = code;
    public string? Details { get; } = details;
}

/// <summary>The well-known error codes of the CNI spec (plus libcni's generic 999).</summary>
public static class CniErrorCodes
{
    public const int IncompatibleVersion = 1;
    public const int UnsupportedField = 2;
    public const int InvalidEnvironment = 4;
    public const int IoFailure = 5;
    public const int DecodingFailure = 6;
    public const int InvalidNetworkConfig = 7;
    public const int Internal = 999;
}
