using Flannel.Net.Native;
using Flannel.Net.Packets;
using Xunit;

namespace Flannel.Net.Tests.Packets;

/// <summary>The flow table shared by the TCP and UDP coalescers, through a subclass that writes each flow as one piece.</summary>
public sealed unsafe class FlowCoalescerTests : IDisposable
{
    /// <summary>Every "packet" is one byte naming it; a flow is written as the concatenation of its packets.</summary>
    private sealed class ByteCoalescer(ITunWriter writer) : FlowCoalescer(writer)
    {
        private readonly byte*[] _heads = new byte*[MaxFlows];
        private readonly int[] _counts = new int[MaxFlows];

        public void Add(byte* packet, uint src, uint dst, uint ports)
        {
            int f = FindFlow(src, dst, ports);
            if (f < 0)
            {
                f = OpenFlow(src, dst, ports);
                _counts[f] = 0;
            }
            Segments(f)[1 + _counts[f]++] = new IoVec(packet, 1);
        }

        protected override void FlushFlow(int slot)
        {
            if (!CloseFlow(slot)) return;
            Writer.Write(default, Segments(slot), _counts[slot] + 1, _counts[slot], _counts[slot]);
        }
    }

    private readonly TunCollector _out = new();
    private readonly ByteCoalescer _c;
    private readonly byte* _bytes = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(256);

    public FlowCoalescerTests()
    {
        _c = new ByteCoalescer(_out);
        for (int i = 0; i < 256; i++) _bytes[i] = (byte)i;
    }

    private void Add(byte name, uint src, uint dst, uint ports) => _c.Add(_bytes + name, src, dst, ports);

    private List<byte[]> Written() => _out.Writes.Select(w => w.Bytes).ToList();

    [Fact]
    public void Packets_of_one_key_share_a_flow_and_flush_writes_flows_in_the_order_they_opened()
    {
        Add(1, 10, 20, 7);
        Add(2, 10, 20, 8);
        Add(3, 10, 20, 7);
        Add(4, 20, 10, 7);
        Add(5, 10, 20, 8);
        _c.Flush();
        Assert.Equal([[1, 3], [2, 5], [4]], Written());
        _c.Flush();
        Assert.Equal(3, _out.Writes.Count);
    }

    [Fact]
    public void A_full_table_writes_its_oldest_flow_to_make_room_and_loses_nothing()
    {
        for (byte i = 0; i < FlowCoalescer.MaxFlows; i++) Add(i, 1, 2, i);
        Add(100, 1, 2, 0);                       // joins the oldest flow, which stays open
        Add(200, 1, 2, 99);                      // a ninth key: flow 0 (oldest) goes out first
        Assert.Equal([[0, 100]], Written());
        Add(201, 1, 2, 0);                       // key 0 again: a new flow, newest of all
        _c.Flush();
        var expected = new List<byte[]> { new byte[] { 0, 100 } };
        for (byte i = 1; i < FlowCoalescer.MaxFlows; i++) expected.Add([i]);
        expected.Add([200]);
        expected.Add([201]);
        Assert.Equal(expected, Written());
    }

    [Fact]
    public void Flushing_an_address_pair_writes_only_its_flows_oldest_first()
    {
        Add(1, 10, 20, 1);
        Add(2, 30, 40, 1);
        Add(3, 10, 20, 2);
        Add(4, 20, 10, 1);
        _c.FlushAddresses(10, 20);
        Assert.Equal([[1], [3]], Written());
        _c.FlushAddresses(10, 20);
        Assert.Equal(2, _out.Writes.Count);
        _c.Flush();
        Assert.Equal([[1], [3], [2], [4]], Written());
    }

    public void Dispose()
    {
        _c.Dispose();
        _c.Dispose();
        System.Runtime.InteropServices.NativeMemory.Free(_bytes);
    }
}
