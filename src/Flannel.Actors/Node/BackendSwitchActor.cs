using Akka.Actor;
using Flannel.Actors.Leases;
using Flannel.Actors.NetConfig;
using Flannel.Net.Backends;
using Flannel.Net.Config;

namespace Flannel.Actors.Node;

/// <summary>
/// The data-plane half of a live backend switch, asked by the <see cref="NodeAgentActor"/> with
/// <see cref="ApplyClusterNetConf"/>: tears the old backend down and brings the new one up on the same lease
/// (<see cref="SwitchableBackend.SwitchTo"/>), then re-advertises the lease with the new backend type and data
/// (<see cref="UpdateBackend"/>). It ends in one <see cref="BackendSwitched"/> to the node agent, which alone writes
/// subnet.env and the status, has the peers reconciled and answers the config owner. One switch at a time: the mailbox
/// waits while a switch runs.
/// </summary>
public sealed class BackendSwitchActor : ReceiveActor
{
    private readonly SwitchableBackend _backend;
    private readonly Func<BackendConfig, IBackend> _create;
    private readonly IActorRef _leases;
    private readonly TimeSpan _timeout;

    public BackendSwitchActor(SwitchableBackend backend, Func<BackendConfig, IBackend> create, IActorRef leases, TimeSpan timeout)
    {
        _backend = backend;
        _create = create;
        _leases = leases;
        _timeout = timeout;
        ReceiveAsync<ApplyClusterNetConf>(OnApply);
    }

    public static Props Props(SwitchableBackend backend, Func<BackendConfig, IBackend> create, IActorRef leases, TimeSpan? timeout = null) =>
        Akka.Actor.Props.Create(() => new BackendSwitchActor(backend, create, leases, timeout ?? TimeSpan.FromSeconds(30)));

    // No ConfigureAwait(false) here: ReceiveAsync continuations must run in the actor's context.
    private async Task OnApply(ApplyClusterNetConf apply)
    {
        var replyTo = Sender;
        var to = apply.Conf.Backend.Type;
        var switched = false;
        try
        {
            await Task.Run(() => _backend.SwitchTo(_create(apply.Conf.Backend)));
            switched = true;
            var updated = await _leases.Ask<object>(new UpdateBackend(_backend.Type, _backend.LeaseData), _timeout);
            if (updated is BackendUpdateFailed failed)
                throw new InvalidOperationException($"the lease could not be re-advertised with backend {to}: {failed.Reason}");
            replyTo.Tell(new BackendSwitched(apply, _backend.Type, _backend.Mtu, (updated as BackendUpdated)?.Lease, null));
        }
        catch (Exception e) when (e is InvalidOperationException or AskTimeoutException or TaskCanceledException or IOException
                                       or ArgumentException or Flannel.Net.Netlink.NetlinkException)
        {
            // Logged once, by the config owner ("config refused ... cannot switch", event 3002), with this message.
            replyTo.Tell(new BackendSwitched(apply, _backend.Type, _backend.Mtu, null, e.Message) { BackendReplaced = switched });
        }
    }
}
