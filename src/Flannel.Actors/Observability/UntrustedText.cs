namespace Flannel.Actors.Observability;

/// <summary>
/// Text that came from a peer we do not trust (a certificate's subject, a message manifest): clipped and stripped of
/// control characters before it reaches a log line, so a stranger can neither forge log lines nor flood one.
/// </summary>
public static class UntrustedText
{
    public const int DefaultMax = 200;

    public static string Clip(string? text, int max = DefaultMax)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var s = text.Length > max ? text[..max] + "..." : text;
        return string.Create(s.Length, s, static (span, src) =>
        {
            for (var i = 0; i < src.Length; i++) span[i] = char.IsControl(src[i]) ? '?' : src[i];
        });
    }
}
