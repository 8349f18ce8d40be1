using System.Runtime.InteropServices;
using Flannel.Net.Native;

namespace Flannel.Net.Packets;

/// <summary>
/// The TUN-bound side of a receive batch: TCP segments go to a <see cref="TcpCoalescer"/>, UDP datagrams to a
/// <see cref="UdpCoalescer"/>, anything else is written at once. A packet never overtakes what is pending for its
/// address pair in the other coalescer (that is flushed first), so packets between two hosts keep their order
/// across protocols, as the kernel's GRO keeps it.
/// </summary>
public sealed unsafe class TunWriteCoalescer : IDisposable
{
    private readonly ITunWriter _writer;
    private readonly TcpCoalescer _tcp;
    private readonly UdpCoalescer _udp;
    private readonly IoVec* _single;

    public TunWriteCoalescer(ITunWriter writer)
    {
        _writer = writer;
        _tcp = new TcpCoalescer(writer);
        _udp = new UdpCoalescer(writer);
        _single = (IoVec*)NativeMemory.AllocZeroed((nuint)(sizeof(IoVec) * 2));
    }

    /// <summary>True once the kernel refused a UDP GSO write (UDP datagrams are then written one by one).</summary>
    public bool UdpGsoRefused => _udp.GsoRefused;

    /// <summary>Adds a validated IPv4 packet of <paramref name="length"/> bytes (its total length).</summary>
    public void Add(byte* packet, int length)
    {
        var p = new ReadOnlySpan<byte>(packet, length);
        uint src = Ipv4.Source(p), dst = Ipv4.Destination(p);
        bool plain = p[0] == 0x45 && !Ipv4.IsFragment(p);
        switch (plain ? Ipv4.Protocol(p) : (byte)0)
        {
            case Ipv4.ProtoTcp:
                _udp.FlushAddresses(src, dst);
                _tcp.Add(packet, length);
                break;
            case Ipv4.ProtoUdp:
                _tcp.FlushAddresses(src, dst);
                _udp.Add(packet, length);
                break;
            default:
                _tcp.FlushAddresses(src, dst);
                _udp.FlushAddresses(src, dst);
                _single[1] = new IoVec(packet, length);
                _writer.Write(default, _single, 2, 1, length);
                break;
        }
    }

    /// <summary>Writes everything pending (end of a receive batch: the buffers are about to be reused).</summary>
    public void Flush()
    {
        _tcp.Flush();
        _udp.Flush();
    }

    public void Dispose()
    {
        _tcp.Dispose();
        _udp.Dispose();
        NativeMemory.Free(_single);
    }
}
