namespace Flannel.Bench.Scale;

/// <summary>
/// How one lease change reaches every replica in the current design, modelled on Akka.DistributedData 1.5's replicator
/// (Replicator.cs, DeltaPropagationSelector.cs, ReadWriteAggregator.cs):
/// <list type="bullet">
/// <item>WriteMajority: the allocator's node sends the change (a delta) to majority-1 others, each acks;</item>
/// <item>delta propagation: every max(gossip/5, 200 ms) the writer sends the delta to the next
/// min(max(N/5+1, 2), min(N, 10)) nodes round-robin, until all N-1 got it;</item>
/// <item>gossip: every gossip-interval each node sends its digests (Status) to one random node; when the digests
/// differ the receiver answers with its full table and the sender sends its merged full table back (sendBack).</item>
/// </list>
/// Discrete time in 10 ms steps; nodes' gossip ticks have random phases. Counts messages and bytes until every node
/// has the change (and until the writer's delta propagation is done).
/// </summary>
public static class GossipModel
{
    public sealed record Result(int N, double AllHaveS, long StatusPerRound, long FullTables, long Deltas, long MajorityMessages,
        long Bytes);

    public static int Majority(int n) => n / 2 + 1;

    public static int SliceSize(int others) => Math.Min(Math.Max(others / 5 + 1, 2), Math.Min(others, 10));

    public static Result Run(int n, int gossipMs, long tableBytes, long entryBytes, Random rng)
    {
        const int step = 10;
        var deltaMs = Math.Max(gossipMs / 5, 200);
        var has = new bool[n];
        has[0] = true;
        // WriteMajority: majority-1 random others get the delta at once (the ack makes it 2 messages each).
        var order = Enumerable.Range(1, n - 1).OrderBy(_ => rng.Next()).ToArray();
        var majority = Majority(n) - 1;
        foreach (var i in order.Take(majority)) has[i] = true;
        long majorityMessages = 2L * majority, bytes = majority * entryBytes;
        var phase = Enumerable.Range(0, n).Select(_ => rng.Next(gossipMs / step) * step).ToArray();
        var deltaPhase = rng.Next(deltaMs / step) * step;
        var rr = rng.Next(n - 1);
        var slice = SliceSize(n - 1);
        long fullTables = 0, deltas = 0, statuses = 0;
        var haveCount = 1 + majority;
        var allAt = haveCount == n ? 0.0 : -1.0;
        var deltaDone = false;
        for (var t = 0; allAt < 0 || !deltaDone; t += step)
        {
            if (t % deltaMs == deltaPhase && !deltaDone)
            {
                for (var k = 0; k < slice && deltas < n - 1; k++)
                {
                    var target = 1 + (rr++ % (n - 1));
                    deltas++;
                    bytes += entryBytes;
                    if (!has[target]) { has[target] = true; haveCount++; }
                }
                deltaDone = deltas >= n - 1;
            }
            for (var i = 0; i < n; i++)
            {
                if (t % gossipMs != phase[i]) continue;
                var j = rng.Next(n - 1);
                if (j >= i) j++;
                statuses++;
                if (has[i] == has[j]) continue;
                // Different digests: the receiver's full table to the sender, the merged one back (sendBack).
                fullTables += 2;
                bytes += 2 * tableBytes;
                has[i] = has[j] = true;
                haveCount++;
            }
            if (allAt < 0 && haveCount == n) allAt = t / 1000.0;
            if (t > 3_600_000) throw new InvalidOperationException("model did not converge within an hour");
        }
        return new Result(n, allAt, n, fullTables, deltas, majorityMessages, bytes);
    }
}
