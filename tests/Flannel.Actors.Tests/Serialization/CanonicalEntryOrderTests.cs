using System.Runtime.Serialization;
using CsCheck;
using Flannel.Actors.Serialization;
using Google.Protobuf;
using Xunit;

namespace Flannel.Actors.Tests.Serialization;

public sealed class CanonicalEntryOrderTests
{
    /// <summary>A map-shaped message: field 1 (bytes), one field-2 entry per item in the given order, field 3 (varint).</summary>
    private static byte[] Map(params string[] entries)
    {
        using var ms = new MemoryStream();
        var output = new CodedOutputStream(ms);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFromUtf8("keys"));
        foreach (var e in entries)
        {
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFromUtf8(e));
        }
        output.WriteTag(3, WireFormat.WireType.Varint);
        output.WriteUInt64(300);
        output.Flush();
        return ms.ToArray();
    }

    [Fact]
    public void Entries_are_sorted_by_their_bytes_and_every_other_field_keeps_its_place()
    {
        Assert.Equal(Map("lime", "pear", "plum"), CanonicalEntryOrder.Sort(Map("pear", "plum", "lime"), 2));
        // The bytes include the length prefix: a shorter entry comes first.
        Assert.Equal(Map("fig", "apple"), CanonicalEntryOrder.Sort(Map("apple", "fig"), 2));
    }

    [Fact]
    public void Any_two_orders_of_the_same_entries_give_the_same_bytes()
    {
        Gen.String[1, 40].HashSet[2, 12].SelectMany(set => Gen.Shuffle(set.ToArray()).Select(shuffled => (set.ToArray(), shuffled)))
            .Sample(t =>
            {
                var (original, shuffled) = t;
                var a = CanonicalEntryOrder.Sort(Map(original), 2);
                var b = CanonicalEntryOrder.Sort(Map(shuffled), 2);
                Assert.Equal(a, b);
                Assert.Equal(Map(original).Length, a.Length);
            });
    }

    [Fact]
    public void A_message_with_fewer_than_two_entries_is_returned_as_it_is()
    {
        var one = Map("only");
        Assert.Same(one, CanonicalEntryOrder.Sort(one, 2));
    }

    [Fact]
    public void Compressed_messages_are_sorted_inside_the_compression()
    {
        var compressed = Gzip(Map("b", "a"));
        Assert.Equal(Map("a", "b"), Gunzip(CanonicalEntryOrder.SortCompressed(compressed, 2)));
    }

    [Fact]
    public void A_compressed_message_with_one_entry_is_returned_without_compressing_again()
    {
        var compressed = Gzip(Map("only"));
        Assert.Same(compressed, CanonicalEntryOrder.SortCompressed(compressed, 2));
    }

    [Fact]
    public void Bytes_that_are_not_a_protobuf_message_are_refused_naming_the_offset()
    {
        // A valid field 1, then a length-delimited field 2 that claims 100 bytes of 2.
        byte[] bad = [.. Map(), 0x12, 100, 1, 2];
        var e = Assert.Throws<SerializationException>(() => CanonicalEntryOrder.Sort(bad, 2));
        Assert.Contains($"at byte {Map().Length} of {bad.Length}", e.Message);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionMode.Compress, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    private static byte[] Gunzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(new MemoryStream(data), System.IO.Compression.CompressionMode.Decompress)) gz.CopyTo(ms);
        return ms.ToArray();
    }
}
