using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Flannel.Actors.Leases.Durable;

/// <summary>One durable DistributedData key and its envelope as Akka's serializer wrote it.</summary>
public sealed record StoredEntry(string Key, int SerializerId, string Manifest, byte[] Data);

/// <summary>Why a lease store file cannot be used (the message says what is wrong, never which file: the caller knows).</summary>
public sealed class LeaseStoreFormatException(string problem) : Exception(problem);

/// <summary>
/// The lease store's file format, pure (no I/O). Layout, little-endian:
/// <code>
/// "FLNLEASE"            8 bytes magic
/// version               u32 (= <see cref="Version"/>)
/// payload length        u32
/// payload               count u32, then per entry: key (u16 length + UTF-8), serializer id i32,
///                       manifest (u16 length + UTF-8), data (u32 length + bytes)
/// SHA-256               32 bytes over everything before it
/// </code>
/// The header's length lets a reader tell a truncated file from a corrupt one; the checksum catches every other change.
/// A reader checks magic, then version (a newer format may change everything after it), then length, then checksum.
/// </summary>
public static class LeaseStoreFormat
{
    public const int Version = 1;
    public const int HeaderLength = 16;
    public const int ChecksumLength = 32;
    /// <summary>Far above a lease table of 5000 entries (about 1.5 MB); a header announcing more is corrupt.</summary>
    public const int MaxPayload = 64 * 1024 * 1024;

    public static ReadOnlySpan<byte> Magic => "FLNLEASE"u8;

    public static byte[] Encode(IReadOnlyCollection<StoredEntry> entries)
    {
        var payload = new MemoryStream();
        var w = new BinaryWriter(payload, Encoding.UTF8);
        w.Write((uint)entries.Count);
        foreach (var e in entries)
        {
            WriteText(w, e.Key, "key");
            w.Write(e.SerializerId);
            WriteText(w, e.Manifest, "manifest");
            w.Write((uint)e.Data.Length);
            w.Write(e.Data);
        }
        w.Flush();
        if (payload.Length > MaxPayload)
            throw new LeaseStoreFormatException($"payload of {payload.Length} bytes exceeds the format's limit of {MaxPayload}");

        var file = new byte[HeaderLength + payload.Length + ChecksumLength];
        Magic.CopyTo(file);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), (uint)payload.Length);
        payload.GetBuffer().AsSpan(0, (int)payload.Length).CopyTo(file.AsSpan(HeaderLength));
        SHA256.HashData(file.AsSpan(0, file.Length - ChecksumLength), file.AsSpan(file.Length - ChecksumLength));
        return file;
    }

    /// <summary>The entries of a store file; throws <see cref="LeaseStoreFormatException"/> saying what is wrong.</summary>
    public static IReadOnlyList<StoredEntry> Decode(ReadOnlySpan<byte> file)
    {
        if (file.Length == 0) throw new LeaseStoreFormatException("the file is empty (truncated)");
        if (file.Length < HeaderLength)
            throw new LeaseStoreFormatException($"truncated: {file.Length} bytes, shorter than the {HeaderLength}-byte header");
        if (!file[..Magic.Length].SequenceEqual(Magic))
            throw new LeaseStoreFormatException("not a flannel lease store (the file does not start with \"FLNLEASE\")");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(file[8..]);
        if (version != Version)
            throw new LeaseStoreFormatException($"format version {version}; this flanneld reads version {Version}");
        var payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(file[12..]);
        if (payloadLength > MaxPayload)
            throw new LeaseStoreFormatException($"the header announces a payload of {payloadLength} bytes, more than the limit of {MaxPayload} (corrupt)");
        var expected = HeaderLength + (long)payloadLength + ChecksumLength;
        if (file.Length < expected)
            throw new LeaseStoreFormatException($"truncated: {file.Length} bytes, the header announces {expected}");
        if (file.Length > expected)
            throw new LeaseStoreFormatException($"{file.Length - expected} bytes after the end the header announces ({expected} bytes): corrupt");
        Span<byte> hash = stackalloc byte[ChecksumLength];
        SHA256.HashData(file[..^ChecksumLength], hash);
        if (!hash.SequenceEqual(file[^ChecksumLength..]))
            throw new LeaseStoreFormatException("checksum mismatch: the SHA-256 of the content is not the one stored (corrupt)");
        return DecodePayload(file.Slice(HeaderLength, (int)payloadLength));
    }

    private static List<StoredEntry> DecodePayload(ReadOnlySpan<byte> payload)
    {
        var r = new Reader(payload);
        var count = r.U32("entry count");
        var entries = new List<StoredEntry>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var key = r.Text($"entry {i} key");
            if (!keys.Add(key)) throw new LeaseStoreFormatException($"entry {i}: key \"{key}\" appears twice");
            var serializerId = r.I32($"entry {i} serializer id");
            var manifest = r.Text($"entry {i} manifest");
            var data = r.Bytes((int)Math.Min(r.U32($"entry {i} data length"), int.MaxValue), $"entry {i} data");
            entries.Add(new StoredEntry(key, serializerId, manifest, data));
        }
        if (r.Remaining != 0) throw new LeaseStoreFormatException($"{r.Remaining} bytes after the last entry");
        return entries;
    }

    private static void WriteText(BinaryWriter w, string text, string what)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > ushort.MaxValue) throw new LeaseStoreFormatException($"{what} of {bytes.Length} bytes is longer than {ushort.MaxValue}");
        w.Write((ushort)bytes.Length);
        w.Write(bytes);
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;

        public readonly int Remaining => _data.Length - _at;

        private ReadOnlySpan<byte> Take(int n, string what)
        {
            if (n < 0 || n > Remaining)
                throw new LeaseStoreFormatException($"{what} runs past the end of the payload ({n} bytes wanted, {Remaining} left)");
            var s = _data.Slice(_at, n);
            _at += n;
            return s;
        }

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
        public int I32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));
        public byte[] Bytes(int n, string what) => Take(n, what).ToArray();

        public string Text(string what)
        {
            var n = BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what + " length"));
            try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(n, what)); }
            catch (DecoderFallbackException) { throw new LeaseStoreFormatException($"{what} is not valid UTF-8"); }
        }
    }
}
