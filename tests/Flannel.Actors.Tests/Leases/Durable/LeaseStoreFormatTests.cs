using System.Buffers.Binary;
using System.Text;
using Flannel.Actors.Leases.Durable;
using Xunit;

namespace Flannel.Actors.Tests.Leases.Durable;

public sealed class LeaseStoreFormatTests
{
    private static readonly StoredEntry Leases = new("flannel-leases", 11, "DDE", [1, 2, 3, 4, 5, 250]);
    private static readonly StoredEntry Other = new("flannel-netconf", 11, "DDE", Encoding.UTF8.GetBytes("sœme data"));

    private static byte[] Valid() => LeaseStoreFormat.Encode([Leases, Other]);

    private static string Problem(byte[] file) => Assert.Throws<LeaseStoreFormatException>(() => LeaseStoreFormat.Decode(file)).Message;

    [Fact]
    public void Entries_round_trip_with_key_serializer_manifest_and_bytes()
    {
        var decoded = LeaseStoreFormat.Decode(Valid());

        Assert.Equal(2, decoded.Count);
        Assert.Equal((Leases.Key, Leases.SerializerId, Leases.Manifest), (decoded[0].Key, decoded[0].SerializerId, decoded[0].Manifest));
        Assert.Equal(Leases.Data, decoded[0].Data);
        Assert.Equal(Other.Data, decoded[1].Data);
        Assert.Empty(LeaseStoreFormat.Decode(LeaseStoreFormat.Encode([])));
    }

    [Fact]
    public void The_file_starts_with_the_magic_and_the_version()
    {
        var file = Valid();
        Assert.Equal("FLNLEASE", Encoding.ASCII.GetString(file, 0, 8));
        Assert.Equal((uint)LeaseStoreFormat.Version, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8)));
        Assert.Equal(LeaseStoreFormat.HeaderLength + BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12)) + LeaseStoreFormat.ChecksumLength,
            (uint)file.Length);
    }

    [Fact]
    public void An_empty_file_is_reported_as_empty() => Assert.Contains("empty", Problem([]));

    [Theory]
    [InlineData(5)]
    [InlineData(15)]
    public void A_file_cut_inside_the_header_is_truncated(int length) =>
        Assert.Contains($"truncated: {length} bytes, shorter than the 16-byte header", Problem(Valid()[..length]));

    [Theory]
    [InlineData(1)]
    [InlineData(33)]
    [InlineData(40)]
    public void A_file_cut_after_the_header_is_truncated_with_both_lengths(int cut)
    {
        var file = Valid();
        var problem = Problem(file[..^cut]);
        Assert.Contains($"truncated: {file.Length - cut} bytes, the header announces {file.Length}", problem);
    }

    [Fact]
    public void Bytes_after_the_announced_end_are_corrupt() =>
        Assert.Contains("3 bytes after the end", Problem([.. Valid(), 0, 0, 0]));

    [Fact]
    public void A_foreign_file_is_not_a_lease_store() =>
        Assert.Contains("not a flannel lease store", Problem(Encoding.UTF8.GetBytes("{\"leases\": []} and some more text")));

    [Theory]
    [InlineData(0u)]
    [InlineData(2u)]
    [InlineData(7u)]
    public void Another_format_version_is_named(uint version)
    {
        var file = Valid();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), version);
        Assert.Equal($"format version {version}; this flanneld reads version 1", Problem(file));
    }

    [Theory]
    [InlineData(20)]   // the entry count
    [InlineData(30)]   // inside the first key
    [InlineData(-40)]  // inside the last entry's data
    [InlineData(-1)]   // the checksum itself
    public void Any_flipped_byte_is_a_checksum_mismatch(int at)
    {
        var file = Valid();
        file[at < 0 ? file.Length + at : at] ^= 0x40;
        Assert.Contains("checksum mismatch", Problem(file));
    }

    [Fact]
    public void A_header_announcing_a_huge_payload_is_corrupt_not_an_allocation()
    {
        var file = Valid();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), uint.MaxValue);
        Assert.Contains("more than the limit", Problem(file));
    }

    [Fact]
    public void A_key_stored_twice_is_refused_even_with_a_valid_checksum() =>
        Assert.Contains("key \"flannel-leases\" appears twice", Problem(LeaseStoreFormat.Encode([Leases, Leases])));
}
