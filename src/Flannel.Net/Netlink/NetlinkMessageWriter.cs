using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Flannel.Net.Netlink;

/// <summary>
/// Builds one netlink request: the 16-byte nlmsghdr, a fixed family header and 4-byte aligned attributes (nesting supported).
/// Integers are host order (little-endian on every platform .NET runs this on), except where the kernel wants network order.
/// </summary>
public sealed class NetlinkMessageWriter
{
    private byte[] _buf = new byte[512];
    private int _len;
    private readonly Stack<int> _nests = new();

    public NetlinkMessageWriter(ushort type, ushort flags)
    {
        _len = Nl.HeaderSize;
        BinaryPrimitives.WriteUInt16LittleEndian(_buf.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(_buf.AsSpan(6), flags);
    }

    public ushort Type => BinaryPrimitives.ReadUInt16LittleEndian(_buf.AsSpan(4));

    /// <summary>The finished message with nlmsg_len filled in; sequence number and port id are set by the socket.</summary>
    public byte[] ToArray()
    {
        if (_nests.Count != 0) throw new InvalidOperationException("netlink: unclosed nested attribute");
        BinaryPrimitives.WriteUInt32LittleEndian(_buf.AsSpan(0), (uint)_len);
        return _buf.AsSpan(0, _len).ToArray();
    }

    /// <summary>struct ifinfomsg (16 bytes).</summary>
    public NetlinkMessageWriter IfInfo(byte family, int index, uint flags = 0, uint change = 0, ushort type = 0)
    {
        var s = Reserve(16);
        s[0] = family;
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], type);
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], change);
        return this;
    }

    /// <summary>struct ifaddrmsg (8 bytes).</summary>
    public NetlinkMessageWriter IfAddr(byte family, byte prefixLen, byte flags, byte scope, int index)
    {
        var s = Reserve(8);
        s[0] = family; s[1] = prefixLen; s[2] = flags; s[3] = scope;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        return this;
    }

    /// <summary>struct rtmsg (12 bytes).</summary>
    public NetlinkMessageWriter RtMsg(byte family, byte dstLen, byte table, byte protocol, byte scope, byte type, uint flags)
    {
        var s = Reserve(12);
        s[0] = family; s[1] = dstLen; s[2] = 0; s[3] = 0; s[4] = table; s[5] = protocol; s[6] = scope; s[7] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], flags);
        return this;
    }

    /// <summary>struct ndmsg (12 bytes).</summary>
    public NetlinkMessageWriter NdMsg(byte family, int index, ushort state, byte flags, byte type = 0)
    {
        var s = Reserve(12);
        s[0] = family;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt16LittleEndian(s[8..], state);
        s[10] = flags; s[11] = type;
        return this;
    }

    public NetlinkMessageWriter Attr(ushort type, ReadOnlySpan<byte> value)
    {
        var s = Reserve(Align(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], type);
        value.CopyTo(s[4..]);
        return this;
    }

    public NetlinkMessageWriter Flag(ushort type) => Attr(type, ReadOnlySpan<byte>.Empty);

    public NetlinkMessageWriter U8(ushort type, byte v) => Attr(type, [v]);

    public NetlinkMessageWriter U16(ushort type, ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return Attr(type, b);
    }

    /// <summary>A 16-bit value in network byte order (ports).</summary>
    public NetlinkMessageWriter U16BigEndian(ushort type, ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, v);
        return Attr(type, b);
    }

    public NetlinkMessageWriter U32(ushort type, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return Attr(type, b);
    }

    public NetlinkMessageWriter Address(ushort type, IPAddress address) => Attr(type, address.GetAddressBytes());

    /// <summary>A NUL-terminated string attribute (interface names, link kinds).</summary>
    public NetlinkMessageWriter String(ushort type, string value)
    {
        var bytes = new byte[Encoding.ASCII.GetByteCount(value) + 1];
        Encoding.ASCII.GetBytes(value, bytes);
        return Attr(type, bytes);
    }

    public NetlinkMessageWriter BeginNested(ushort type)
    {
        _nests.Push(_len);
        var s = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], type);
        return this;
    }

    public NetlinkMessageWriter EndNested()
    {
        var start = _nests.Pop();
        BinaryPrimitives.WriteUInt16LittleEndian(_buf.AsSpan(start), (ushort)(_len - start));
        return this;
    }

    internal static int Align(int len) => (len + 3) & ~3;

    private Span<byte> Reserve(int n)
    {
        if (_len + n > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + n));
        var s = _buf.AsSpan(_len, n);
        s.Clear();
        _len += n;
        return s;
    }
}
