using System.Runtime.InteropServices;

namespace Flannel.Net.Netlink;

/// <summary>What kind of kernel object changed (or Overflow: notifications were lost, resynchronize everything).</summary>
public enum NetlinkChangeKind { Link, Address, Route, Neighbor, Overflow }

/// <summary>One change notification; <see cref="Removed"/> for RTM_DEL* messages.</summary>
public sealed record NetlinkChange(NetlinkChangeKind Kind, bool Removed, ushort MessageType);

/// <summary>
/// Listens to rtnetlink multicast groups (links, IPv4 addresses, IPv4 routes, neighbours) on a background thread and
/// raises <see cref="Changed"/> so a reconcile loop can be woken. Subscribes in the namespace of the constructing thread.
/// Handlers run on the monitor thread and should only signal (they must not block).
/// </summary>
public sealed unsafe class NetlinkMonitor : IDisposable
{
    public const uint DefaultGroups = Nl.RTMGRP_LINK | Nl.RTMGRP_IPV4_IFADDR | Nl.RTMGRP_IPV4_ROUTE | Nl.RTMGRP_NEIGH;

    private readonly NetlinkSocket _socket;
    private readonly int _stopFd;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public event Action<NetlinkChange>? Changed;

    /// <summary>Raised if the monitor thread dies from an unexpected error (it stops listening afterwards).</summary>
    public event Action<Exception>? Failed;

    public NetlinkMonitor(uint groups = DefaultGroups)
    {
        _socket = new NetlinkSocket(groups);
        _stopFd = NetlinkNative.eventfd(0, NetlinkNative.EFD_CLOEXEC);
        if (_stopFd < 0)
        {
            var err = Marshal.GetLastPInvokeError();
            _socket.Dispose();
            throw new NetlinkException("create monitor eventfd", err);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "netlink-monitor" };
    }

    /// <summary>Starts listening (separate from construction so handlers can be attached first).</summary>
    public NetlinkMonitor Start()
    {
        _thread.Start();
        return this;
    }

    private void Run()
    {
        try
        {
            var fds = stackalloc NetlinkNative.PollFd[2];
            while (!_stopping)
            {
                fds[0] = new NetlinkNative.PollFd { Fd = _socket.Fd, Events = NetlinkNative.POLLIN };
                fds[1] = new NetlinkNative.PollFd { Fd = _stopFd, Events = NetlinkNative.POLLIN };
                if (NetlinkNative.poll(fds, 2, -1) < 0)
                {
                    var pollErr = Marshal.GetLastPInvokeError();
                    if (pollErr == NetlinkNative.EINTR) continue;
                    throw new NetlinkException("monitor poll", pollErr);
                }
                if (_stopping || fds[1].Revents != 0) return;
                if (fds[0].Revents == 0) continue;
                var (n, err) = _socket.TryReceive(NetlinkNative.MSG_DONTWAIT);
                if (err == NetlinkNative.ENOBUFS)
                {
                    // The kernel dropped notifications because we were slow: whoever listens must do a full resync.
                    Raise(new NetlinkChange(NetlinkChangeKind.Overflow, false, 0));
                    continue;
                }
                if (err == NetlinkNative.EAGAIN) continue;
                if (err != 0) throw new NetlinkException("monitor receive", err);
                Dispatch(n);
            }
        }
        catch (Exception e) when (!_stopping)
        {
            Failed?.Invoke(e);
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
        ulong one = 1;
        NetlinkNative.write(_stopFd, (byte*)&one, sizeof(ulong));
        if (_thread.IsAlive && Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(5));
        NetlinkNative.close(_stopFd);
        _socket.Dispose();
    }
}
