using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Observability;

// The cluster transport's security events (ids 4002-4008, see EventIds). In their own file so the security helpers'
// event sets do not collide in FlannelLog.Log.cs.
public static partial class FlannelLog
{
    [LoggerMessage(EventId = EventIds.Id.ClusterCertificateRefused, EventName = nameof(EventIds.ClusterCertificateRefused), Level = LogLevel.Warning,
        Message = "cluster TLS: refused the certificate of {Peer}: {Reason} (subject \"{Subject}\", issuer \"{Issuer}\"; {Suppressed} more refusals from it since the last report)")]
    public static partial void ClusterCertificateRefused(this ILogger logger, string peer, string reason, string subject, string issuer, int suppressed);

    [LoggerMessage(EventId = EventIds.Id.ClusterConnectionRefused, EventName = nameof(EventIds.ClusterConnectionRefused), Level = LogLevel.Warning,
        Message = "cluster TLS: refused a connection from {Peer}: the TLS handshake failed ({Suppressed} more refusals from it since the last report)")]
    public static partial void ClusterConnectionRefused(this ILogger logger, string peer, int suppressed);

    [LoggerMessage(EventId = EventIds.Id.WireMessageRefused, EventName = nameof(EventIds.WireMessageRefused), Level = LogLevel.Warning,
        Message = "refused a message of an unbound type from another node (manifest \"{Manifest}\", {Bytes} bytes): not instantiated")]
    public static partial void WireMessageRefused(this ILogger logger, string manifest, int bytes);

    [LoggerMessage(EventId = EventIds.Id.ClusterTlsEnabled, EventName = nameof(EventIds.ClusterTlsEnabled), Level = LogLevel.Information,
        Message = "cluster TLS on: certificate \"{Subject}\" valid until {NotAfter:o}, trusting {CaCount} CA certificate(s) from {CaFile}")]
    public static partial void ClusterTlsEnabled(this ILogger logger, string subject, DateTimeOffset notAfter, int caCount, string caFile);

    [LoggerMessage(EventId = EventIds.Id.ClusterInsecure, EventName = nameof(EventIds.ClusterInsecure), Level = LogLevel.Warning,
        Message = "cluster transport WITHOUT TLS (--cluster-insecure): anyone who reaches {Address} can join the cluster and rewrite leases and routes")]
    public static partial void ClusterInsecure(this ILogger logger, string address);

    [LoggerMessage(EventId = EventIds.Id.ClusterLocalOnly, EventName = nameof(EventIds.ClusterLocalOnly), Level = LogLevel.Information,
        Message = "no cluster TLS and no other seed: a cluster of one, remoting bound to {Address} (give --cluster-tls-* to let other nodes join)")]
    public static partial void ClusterLocalOnly(this ILogger logger, string address);

    [LoggerMessage(EventId = EventIds.Id.ClusterCertificateExpiresSoon, EventName = nameof(EventIds.ClusterCertificateExpiresSoon), Level = LogLevel.Warning,
        Message = "cluster certificate \"{Subject}\" expires {NotAfter:o} ({Days:0} days): renew it (README, Security); peers refuse an expired certificate and Akka stops a node whose outgoing handshake fails")]
    public static partial void ClusterCertificateExpiresSoon(this ILogger logger, string subject, DateTimeOffset notAfter, double days);
}
