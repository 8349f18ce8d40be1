using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Flannel.Net.Netlink;

/// <summary>
/// An AF_NETLINK/NETLINK_ROUTE socket. The socket belongs to the network namespace of the thread that constructs it
/// (sockets keep their namespace for life), so construct it on the thread that entered the target namespace; it may be
/// used from any thread afterwards. Requests are serialized.
/// </summary>
public sealed unsafe class NetlinkSocket : IDisposable
{
    private const int BufferSize = 1 << 20;
    private readonly object _gate = new();
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _fd;
    private uint _seq = (uint)Environment.TickCount;

    /// <param name="groups">RTMGRP_* multicast groups to join (0 for a request socket).</param>
    public NetlinkSocket(uint groups = 0)
    {
        _fd = NetlinkNative.socket(Nl.AF_NETLINK, NetlinkNative.SOCK_RAW | NetlinkNative.SOCK_CLOEXEC, Nl.NETLINK_ROUTE);
        if (_fd < 0) throw new NetlinkException("open socket", Marshal.GetLastPInvokeError());
        try
        {
            int one = 1;
            // Extended acks give the kernel's reason text; older kernels refuse the option, which is harmless.
            NetlinkNative.setsockopt(_fd, Nl.SOL_NETLINK, Nl.NETLINK_EXT_ACK, &one, sizeof(int));
            var sa = new NetlinkNative.SockaddrNl { Family = Nl.AF_NETLINK, Groups = groups };
            if (NetlinkNative.bind(_fd, &sa, sizeof(NetlinkNative.SockaddrNl)) != 0)
                throw new NetlinkException("bind socket", Marshal.GetLastPInvokeError());
        }
        catch
        {
            NetlinkNative.close(_fd);
            throw;
        }
    }

    internal int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(NetlinkSocket));

    /// <summary>
    /// Sends a request and consumes the reply: every data message is passed to <paramref name="onMessage"/>; returns when
    /// the kernel acks (or ends a dump). A negative ack throws <see cref="NetlinkException"/> naming <paramref name="operation"/>.
    /// </summary>
    public void Request(NetlinkMessageWriter request, string operation, NetlinkMessageHandler? onMessage = null) =>
        Request(request, () => operation, onMessage);

    /// <summary>
    /// As above; the description is only built when something fails (it may itself query the kernel, which is why errors
    /// are thrown after the socket is released).
    /// </summary>
    public void Request(NetlinkMessageWriter request, Func<string> operation, NetlinkMessageHandler? onMessage = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            Outcome outcome;
            lock (_gate) outcome = RequestOnce(request.ToArray());
            if (outcome.Errno != 0) throw new NetlinkException(operation() + outcome.Stage, outcome.Errno, outcome.KernelMessage);
            // A dump interrupted by a concurrent change is inconsistent; the kernel asks us to retry it. Messages are only
            // handed out from a complete, consistent reply.
            if (!outcome.Interrupted)
            {
                if (onMessage != null)
                    foreach (var (type, flags, payload) in outcome.Messages) onMessage(new NetlinkMessage(type, flags, 0, payload));
                return;
            }
            if (attempt >= 5) throw new NetlinkException(operation() + " (dump kept being interrupted)", NetlinkNative.EINTR);
        }
    }

    private readonly record struct Outcome(
        List<(ushort Type, ushort Flags, byte[] Payload)> Messages, bool Interrupted, int Errno = 0, string Stage = "",
        string? KernelMessage = null);

    private Outcome RequestOnce(byte[] msg)
    {
        var messages = new List<(ushort, ushort, byte[])>();
        var seq = ++_seq;
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(8), seq);
        var kernel = new NetlinkNative.SockaddrNl { Family = Nl.AF_NETLINK };
        fixed (byte* p = msg)
        {
            while (NetlinkNative.sendto(Fd, p, msg.Length, 0, &kernel, sizeof(NetlinkNative.SockaddrNl)) < 0)
            {
                var err = Marshal.GetLastPInvokeError();
                if (err != NetlinkNative.EINTR) return new Outcome(messages, false, err, " (send)");
            }
        }

        var interrupted = false;
        while (true)
        {
            var (n, recvErr) = TryReceive(0);
            if (recvErr != 0) return new Outcome(messages, false, recvErr, " (receive)");
            foreach (var m in new NetlinkMessageReader(_buffer.AsSpan(0, n)))
            {
                if (m.Seq != seq) continue; // a late reply to an earlier, abandoned request
                if ((m.Flags & Nl.NLM_F_DUMP_INTR) != 0) interrupted = true;
                switch (m.Type)
                {
                    case Nl.NLMSG_ERROR:
                        var (errno, text) = NetlinkError.Decode(m.Payload, m.Flags);
                        return new Outcome(messages, interrupted, errno, "", text);
                    case Nl.NLMSG_DONE:
                        var status = m.Payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(m.Payload) : 0;
                        return new Outcome(messages, interrupted, status < 0 ? -status : 0);
                    case Nl.NLMSG_NOOP:
                    case Nl.NLMSG_OVERRUN:
                        continue;
                    default:
                        messages.Add((m.Type, m.Flags, m.Payload.ToArray()));
                        break;
                }
            }
        }
    }

    /// <summary>Blocks for one datagram; returns its length, or the errno.</summary>
    internal (int Length, int Errno) TryReceive(int flags)
    {
        fixed (byte* p = _buffer)
        {
            while (true)
            {
                var n = NetlinkNative.recv(Fd, p, _buffer.Length, flags);
                if (n >= 0) return ((int)n, 0);
                var err = Marshal.GetLastPInvokeError();
                if (err != NetlinkNative.EINTR) return (0, err);
            }
        }
    }

    internal ReadOnlySpan<byte> Buffer(int length) => _buffer.AsSpan(0, length);

    /// <summary>The receive buffer, for a reader that receives on the descriptor itself (<see cref="NetlinkMonitor"/>).</summary>
    internal Memory<byte> ReceiveBuffer => _buffer;

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) NetlinkNative.close(fd);
    }
}

public delegate void NetlinkMessageHandler(NetlinkMessage message);
