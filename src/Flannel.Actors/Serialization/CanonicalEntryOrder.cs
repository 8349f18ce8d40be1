using System.IO.Compression;
using Google.Protobuf;

namespace Flannel.Actors.Serialization;

/// <summary>
/// Puts the entries of a serialized DistributedData map (LWWMap, ORMap, PNCounterMap, ORMultiMap: all keep them in
/// field 2) in one order that depends only on their bytes. Akka.NET writes them in the iteration order of an immutable
/// hash dictionary, and .NET's string hash codes are random per process, so two nodes holding the same lease table
/// wrote different bytes. The replicator compares those bytes' SHA-1 digests in every gossip round: they never matched,
/// and every round (2 s) sent, merged and stored the whole table again (bench/footprint/RESULTS.md, seventh session).
/// The message stays what it was (same fields, same values); only the order of the repeated field changes, which
/// protobuf readers do not see, so nodes of earlier builds read it as before.
/// </summary>
public static class CanonicalEntryOrder
{
    /// <summary>The field number of the repeated entry field of every DistributedData map message.</summary>
    public const int MapEntriesField = 2;

    /// <summary>
    /// <paramref name="message"/> (a protobuf message) with the occurrences of <paramref name="field"/> sorted by their
    /// bytes and written where the first one was; every other field keeps its place.
    /// </summary>
    /// <exception cref="System.Runtime.Serialization.SerializationException">The bytes are not a protobuf message (names the offset).</exception>
    public static byte[] Sort(byte[] message, int field)
    {
        var fields = new List<(int Number, int Start, int End)>();
        var input = new CodedInputStream(message);
        var start = 0;
        try
        {
            while (input.ReadTag() is var tag && tag != 0)
            {
                input.SkipLastField();
                var end = (int)input.Position;
                fields.Add((WireFormat.GetTagFieldNumber(tag), start, end));
                start = end;
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new System.Runtime.Serialization.SerializationException(
                $"replicated map: not a protobuf message at byte {start} of {message.Length}: {e.Message}", e);
        }

        var entries = fields.Where(f => f.Number == field).ToList();
        if (entries.Count < 2) return message;
        entries.Sort((a, b) => message.AsSpan(a.Start, a.End - a.Start).SequenceCompareTo(message.AsSpan(b.Start, b.End - b.Start)));

        var sorted = new byte[message.Length];
        var at = 0;
        var entriesWritten = false;
        foreach (var f in fields)
        {
            if (f.Number != field)
            {
                at += Copy(message, f.Start, f.End, sorted, at);
            }
            else if (!entriesWritten)
            {
                foreach (var e in entries) at += Copy(message, e.Start, e.End, sorted, at);
                entriesWritten = true;
            }
        }
        return sorted;
    }

    /// <summary><see cref="Sort"/> of a gzip-compressed message (how Akka.NET serializes the map types), compressed again (the input itself when there was nothing to sort).</summary>
    public static byte[] SortCompressed(byte[] compressed, int field)
    {
        byte[] message;
        using (var output = new MemoryStream())
        {
            using (var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress))
                gzip.CopyTo(output);
            message = output.ToArray();
        }
        var sorted = Sort(message, field);
        // Fewer than two entries: already canonical, and the caller's bytes are worth more than a second compression.
        if (ReferenceEquals(sorted, message)) return compressed;
        using var packed = new MemoryStream(compressed.Length + 64);
        using (var gzip = new GZipStream(packed, CompressionMode.Compress, leaveOpen: true))
            gzip.Write(sorted);
        return packed.ToArray();
    }

    private static int Copy(byte[] from, int start, int end, byte[] to, int at)
    {
        from.AsSpan(start, end - start).CopyTo(to.AsSpan(at));
        return end - start;
    }
}
