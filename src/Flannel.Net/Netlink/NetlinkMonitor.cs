using System.Net.Sockets;

namespace Flannel.Net.Netlink;

/// <summary>What kind of kernel object changed (or Overflow: notifications were lost, resynchronize everything).</summary>
public enum NetlinkChangeKind { Link, Address, Route, Neighbor, Overflow }

/// <summary>One change notification; <see cref="Removed"/> for RTM_DEL* messages.</summary>
public sealed record NetlinkChange(NetlinkChangeKind Kind, bool Removed, ushort MessageType);

/// <summary>
/// Listens to rtnetlink multicast groups (links, IPv4 addresses, IPv4 routes, neighbours) and raises
/// <see cref="Changed"/> so a reconcile loop can be woken. Subscribes in the namespace of the constructing thread.
/// The socket is read through the runtime's socket engine (its one epoll thread serves every socket of the process), not
/// by a thread of its own: the agent's `netlink-monitor` thread only ever waited here (bench/footprint/RESULTS.md, fifth
/// session). Handlers run on a thread-pool thread and should only signal (they must not block).
/// </summary>
public sealed class NetlinkMonitor : IDisposable
{
    public const uint DefaultGroups = Nl.RTMGRP_LINK | Nl.RTMGRP_IPV4_IFADDR | Nl.RTMGRP_IPV4_ROUTE | Nl.RTMGRP_NEIGH;

    private readonly NetlinkSocket _socket;
    // The same descriptor as a .NET socket, for asynchronous receives; it does not own the descriptor (_socket does).
    private readonly Socket _receiver;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private volatile bool _stopping;

    public event Action<NetlinkChange>? Changed;

    /// <summary>Raised if the monitor dies from an unexpected error (it stops listening afterwards).</summary>
    public event Action<Exception>? Failed;

    public NetlinkMonitor(uint groups = DefaultGroups)
    {
        _socket = new NetlinkSocket(groups);
        try
        {
            _receiver = new Socket(new SafeSocketHandle(_socket.Fd, ownsHandle: false));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>Starts listening (separate from construction so handlers can be attached first).</summary>
    public NetlinkMonitor Start()
    {
        _loop ??= Task.Run(RunAsync);
        return this;
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stopping)
            {
                int n;
                try
                {
                    n = await _receiver.ReceiveAsync(_socket.ReceiveBuffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
                {
                    // ENOBUFS: the kernel dropped notifications because we were slow: whoever listens must do a full resync.
                    Raise(new NetlinkChange(NetlinkChangeKind.Overflow, false, 0));
                    continue;
                }
                Dispatch(n);
            }
        }
        catch (Exception e) when (!_stopping)
        {
            Failed?.Invoke(e);
        }
        catch (Exception) when (_stopping)
        {
            // Cancelled by Dispose.
        }
    }

    private void Dispatch(int n)
    {
        var changes = new List<NetlinkChange>();
        foreach (var m in new NetlinkMessageReader(_socket.Buffer(n)))
        {
            var change = Classify(m.Type);
            if (change != null) changes.Add(change);
        }
        foreach (var c in changes) Raise(c);
    }

    /// <summary>Maps an rtnetlink message type to a change, or null for messages that are not notifications.</summary>
    public static NetlinkChange? Classify(ushort type) => type switch
    {
        Rtm.NEWLINK or Rtm.DELLINK => new NetlinkChange(NetlinkChangeKind.Link, type == Rtm.DELLINK, type),
        Rtm.NEWADDR or Rtm.DELADDR => new NetlinkChange(NetlinkChangeKind.Address, type == Rtm.DELADDR, type),
        Rtm.NEWROUTE or Rtm.DELROUTE => new NetlinkChange(NetlinkChangeKind.Route, type == Rtm.DELROUTE, type),
        Rtm.NEWNEIGH or Rtm.DELNEIGH => new NetlinkChange(NetlinkChangeKind.Neighbor, type == Rtm.DELNEIGH, type),
        _ => null,
    };

    private void Raise(NetlinkChange change) => Changed?.Invoke(change);

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _stop.Cancel();
        // A handler that disposes its own monitor runs inside the loop: it must not wait for itself.
        if (_loop is { } loop && !loop.IsCompleted) loop.Wait(TimeSpan.FromSeconds(5));
        _receiver.Dispose();
        _socket.Dispose();
        _stop.Dispose();
    }
}
