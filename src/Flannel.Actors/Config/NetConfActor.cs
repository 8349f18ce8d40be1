using Akka.Actor;
using Flannel.Actors.Observability;
using Flannel.Net.Config;
using Microsoft.Extensions.Logging;

// Not "Flannel.Actors.Config": that namespace would hide Akka's Config type from every Flannel.Actors file.
namespace Flannel.Actors.NetConfig;

/// <summary>
/// Holds the net-conf.json in force. A reload is validated first: a malformed one is refused with the field named and
/// the old config stays (flanneld only exits on a bad config at start). Accepted changes are published on the event
/// stream as <see cref="NetConfAccepted"/> for whoever switches backends live.
/// </summary>
public sealed class NetConfActor : ReceiveActor
{
    private NetConfInForce _current;
    private readonly Microsoft.Extensions.Logging.ILogger _events;

    public NetConfActor(NetConf initial, string json, string source)
    {
        _current = new NetConfInForce(initial, json, source, 1, DateTimeOffset.UtcNow);
        _events = Context.System.FlannelLogger("Flannel.Config");

        Receive<GetNetConf>(_ => Sender.Tell(_current));
        Receive<ReloadNetConf>(OnReload);
    }

    public static Props Props(NetConf initial, string json, string source) =>
        Akka.Actor.Props.Create(() => new NetConfActor(initial, json, source));

    private void OnReload(ReloadNetConf reload)
    {
        NetConf parsed;
        try
        {
            parsed = NetConf.Parse(reload.Json);
        }
        catch (NetConfException e)
        {
            _events.ConfigRefused(reload.Source, e.Message);
            Sender.Tell(new NetConfRefused(e.Message, _current));
            return;
        }
        if (parsed == _current.Conf)
        {
            Sender.Tell(new NetConfUnchanged(_current));
            return;
        }
        var previous = _current.Conf;
        _current = new NetConfInForce(parsed, reload.Json, reload.Source, _current.Version + 1, DateTimeOffset.UtcNow);
        _events.ConfigApplied(_current.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), reload.Source);
        var accepted = new NetConfAccepted(_current, previous);
        Context.System.EventStream.Publish(accepted);
        Sender.Tell(accepted);
    }
}
