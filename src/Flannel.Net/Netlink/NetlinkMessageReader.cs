using System.Buffers.Binary;

namespace Flannel.Net.Netlink;

/// <summary>One message of a received datagram: header fields and the payload after the 16-byte nlmsghdr.</summary>
public readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint seq, ReadOnlySpan<byte> payload)
    {
        Type = type; Flags = flags; Seq = seq; Payload = payload;
    }

    public ushort Type { get; }
    public ushort Flags { get; }
    public uint Seq { get; }
    public ReadOnlySpan<byte> Payload { get; }
}

/// <summary>Iterates the netlink messages packed in one datagram.</summary>
public ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram) { _rest = datagram; Current = default; }

    public NetlinkMessage Current { get; private set; }

    public readonly NetlinkMessageReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.Length < Nl.HeaderSize) return false;
        var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        if (len < Nl.HeaderSize || len > _rest.Length)
            throw new FormatException($"netlink: message length {len} does not fit the {_rest.Length} received bytes");
        Current = new NetlinkMessage(
            BinaryPrimitives.ReadUInt16LittleEndian(_rest[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(_rest[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]),
            _rest[Nl.HeaderSize..len]);
        _rest = _rest[Math.Min(NetlinkMessageWriter.Align(len), _rest.Length)..];
        return true;
    }
}

/// <summary>Decoding of NLMSG_ERROR payloads (struct nlmsgerr plus extended-ack attributes).</summary>
public static class NetlinkError
{
    /// <summary>Returns the (positive) errno, 0 for an ack, and the kernel's extended-ack text if present.</summary>
    public static (int Errno, string? Message) Decode(ReadOnlySpan<byte> payload, ushort flags)
    {
        if (payload.Length < 4) throw new FormatException("netlink: truncated error message");
        var errno = -BinaryPrimitives.ReadInt32LittleEndian(payload);
        string? message = null;
        if ((flags & Nl.NLM_F_ACK_TLVS) != 0 && payload.Length >= 4 + Nl.HeaderSize)
        {
            // The echoed request: only its header when capped, otherwise the whole message.
            var echoedLen = (flags & Nl.NLM_F_CAPPED) != 0
                ? Nl.HeaderSize
                : (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
            var tlvStart = 4 + NetlinkMessageWriter.Align(echoedLen);
            if (tlvStart <= payload.Length)
                foreach (var a in new NetlinkAttributeReader(payload[tlvStart..]))
                    if (a.Type == Nl.NLMSGERR_ATTR_MSG) message = a.String;
        }
        return (errno, message);
    }
}
