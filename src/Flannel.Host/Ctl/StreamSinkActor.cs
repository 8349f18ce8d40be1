using System.Threading.Channels;
using Akka.Actor;
using Flannel.Actors.Cmd;

namespace Flannel.Host.Ctl;

/// <summary>
/// The connection's end of a streaming command: palette actors Tell it items, it hands them to the connection's
/// writer. Stopping it (client gone) ends the palette's stream, which watches it.
/// </summary>
internal sealed class StreamSinkActor : ReceiveActor
{
    public StreamSinkActor(ChannelWriter<CmdReply> writer)
    {
        Receive<CmdStreamItem>(item => writer.TryWrite(new CmdOk(item.Data)));
        Receive<CmdFailed>(failed =>
        {
            writer.TryWrite(failed);
            writer.TryComplete();
        });
    }

    public static Props Props(ChannelWriter<CmdReply> writer) => Akka.Actor.Props.Create(() => new StreamSinkActor(writer));
}
