using Akka.Actor;
using Akka.Event;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Security;

/// <summary>
/// Turns Akka.Remote's "Rejected incoming connection ... TLS handshake failure" warning into flannel's structured event
/// 4003 (peer host, throttled). The certificate callback cannot report these: a peer that speaks plain text, or that
/// refuses our certificate first, never shows its own. Akka offers no hook for a failed handshake other than this log
/// event; a test pins the message so an Akka upgrade that changes it fails loudly.
/// </summary>
public sealed class HandshakeRefusalWatcher : ReceiveActor
{
    public const string Name = "flannel-tls-refusals";

    /// <summary>The start of Akka.Remote's (1.5.73, TcpServerHandler) warning for an inbound handshake that failed.</summary>
    public const string AkkaRejectedPrefix = "Rejected incoming connection from";

    public static Props Props(RefusalThrottle throttle) => Akka.Actor.Props.Create(() => new HandshakeRefusalWatcher(throttle));

    public HandshakeRefusalWatcher(RefusalThrottle throttle)
    {
        var log = Context.System.FlannelLogger("Flannel.Security");
        Receive<Warning>(w =>
        {
            if (w.Message is not LogMessage m || !m.Format.StartsWith(AkkaRejectedPrefix, StringComparison.Ordinal)) return;
            var peer = UntrustedText.Clip(m.Parameters().FirstOrDefault()?.ToString() ?? "unknown");
            if (throttle.ShouldReport(RefusalThrottle.HostOf(peer), DateTime.UtcNow, out var suppressed))
                log.ClusterConnectionRefused(peer, suppressed);
        });
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(Warning));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
