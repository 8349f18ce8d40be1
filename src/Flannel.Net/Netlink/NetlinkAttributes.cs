using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Flannel.Net.Netlink;

/// <summary>One rtattr/nlattr: its type (nested/byte-order flags masked off) and payload.</summary>
public readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort type, ReadOnlySpan<byte> value) { Type = type; Value = value; }

    public ushort Type { get; }
    public ReadOnlySpan<byte> Value { get; }

    public byte U8 => Value.Length >= 1 ? Value[0] : throw Bad("u8");
    public ushort U16 => Value.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(Value) : throw Bad("u16");
    public ushort U16BigEndian => Value.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Value) : throw Bad("be16");
    public uint U32 => Value.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Value) : throw Bad("u32");
    public int I32 => (int)U32;

    public IPAddress Address => Value.Length is 4 or 16 ? new IPAddress(Value) : throw Bad("address");

    /// <summary>A NUL-terminated (or unterminated) string.</summary>
    public string String
    {
        get
        {
            var v = Value;
            var nul = v.IndexOf((byte)0);
            return Encoding.ASCII.GetString(nul >= 0 ? v[..nul] : v);
        }
    }

    public NetlinkAttributeReader Nested => new(Value);

    private Exception Bad(string what) =>
        new FormatException($"netlink: attribute {Type} has {Value.Length} bytes, too short for {what}");
}

/// <summary>Iterates the attributes packed in a span (after a family header, or inside a nested attribute).</summary>
public ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes) { _rest = attributes; Current = default; }

    public NetlinkAttribute Current { get; private set; }

    public readonly NetlinkAttributeReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.Length < 4) return false;
        int len = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (len < 4 || len > _rest.Length)
            throw new FormatException($"netlink: attribute length {len} does not fit the {_rest.Length} remaining bytes");
        var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & Attr.NLA_TYPE_MASK);
        Current = new NetlinkAttribute(type, _rest.Slice(4, len - 4));
        var advance = Math.Min(NetlinkMessageWriter.Align(len), _rest.Length);
        _rest = _rest[advance..];
        return true;
    }
}
