using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Akka.Event;
using Flannel.Testing;
using Flannel.Actors.Kubernetes;
using k8s;
using k8s.Models;
using Xunit;

namespace Flannel.Actors.Tests.Kubernetes;

/// <summary>
/// The list-then-watch loop against scripted list pages and watch streams (no server): what a re-list sends, that pages
/// are sent as they arrive, and that the loop keeps versions, not objects.
/// </summary>
public sealed class KubeListWatchLoopTests
{
    private static readonly KubeWatchOptions Fast = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), ListPageSize: 2);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static V1Node Node(string name, string version) =>
        new() { Metadata = new V1ObjectMeta { Name = name, ResourceVersion = version }, Spec = new V1NodeSpec { PodCIDR = "10.244.0.0/24" } };

    /// <summary>Runs a loop over scripted lists (one per (re)list, each a list of pages); every watch but the last ends with 410.</summary>
    private sealed class Script(params V1Node[][][] lists)
    {
        private int _lists;
        private int _watches;

        public ConcurrentQueue<object> Emitted { get; } = new();

        /// <summary>How many changes had been emitted when each page was asked for, in order.</summary>
        public ConcurrentQueue<int> EmittedWhenPageAsked { get; } = new();

        public KubeListWatchLoop<V1Node> Loop => new("nodes", List, Watch, Emitted.Enqueue, Fast, NoLogger.Instance);

        private Task<(IList<V1Node>, string, string?)> List(string? token, int limit, CancellationToken ct)
        {
            EmittedWhenPageAsked.Enqueue(Emitted.Count);
            var list = lists[Math.Min(token is null ? _lists++ : _lists - 1, lists.Length - 1)];
            var page = token is null ? 0 : int.Parse(token);
            var next = page + 1 < list.Length ? (page + 1).ToString() : null;
            return Task.FromResult<(IList<V1Node>, string, string?)>((list[page], "100", next));
        }

        private async IAsyncEnumerable<(WatchEventType, V1Node)> Watch(string version, Action<Exception> onError,
            [EnumeratorCancellation] CancellationToken ct)
        {
            if (Interlocked.Increment(ref _watches) < lists.Length)
            {
                // As KubernetesClient 21 reports an expired resourceVersion: through onError, then the stream just ends.
                onError(new KubernetesException(new V1Status { Code = 410, Reason = "Expired" }));
                yield break;
            }
            await Task.Delay(Timeout.Infinite, ct);
            yield break;
        }

        public async Task<List<object>> RunUntilSyncedAsync(int times)
        {
            using var cts = new CancellationTokenSource();
            var run = Loop.RunAsync(cts.Token);
            await Poll.UntilAsync(() => Task.FromResult(Emitted.OfType<KubeListSynced<V1Node>>().Count() >= times), Wait,
                () => $"only {Emitted.OfType<KubeListSynced<V1Node>>().Count()} of {times} lists synced", 10);
            await cts.CancelAsync();
            await run;
            return Emitted.ToList();
        }
    }

    [Fact]
    public async Task A_relist_after_410_sends_only_the_differences_and_a_tombstone_for_vanished_objects()
    {
        var script = new Script(
            [[Node("a", "1"), Node("b", "2")], [Node("c", "3")]],
            [[Node("a", "1"), Node("b", "5")], [Node("d", "6")]]);

        var emitted = await script.RunUntilSyncedAsync(2);

        var second = emitted.SkipWhile(m => m is not KubeListSynced<V1Node>).Skip(1).ToList();
        Assert.Equal(3, ((KubeListSynced<V1Node>)emitted.First(m => m is KubeListSynced<V1Node>)).Count);
        var changes = second.OfType<KubeObjectChange<V1Node>>().Select(c => (c.Type, c.Object.Metadata.Name, c.Object.Metadata.ResourceVersion)).ToList();
        Assert.Equal([(KubeChangeType.Modified, "b", "5"), (KubeChangeType.Added, "d", "6"), (KubeChangeType.Deleted, "c", "3")], changes);
        // The tombstone of an object that vanished between lists carries its identity and last version only.
        var tombstone = second.OfType<KubeObjectChange<V1Node>>().Single(c => c.Type == KubeChangeType.Deleted).Object;
        Assert.Null(tombstone.Spec);
        Assert.IsType<KubeListSynced<V1Node>>(second[^1]);
        Assert.Equal(3, ((KubeListSynced<V1Node>)second[^1]).Count);
    }

    [Fact]
    public async Task Each_page_is_sent_before_the_next_is_asked_for_and_a_duplicate_counts_once()
    {
        // A continue token offset that moved (an object added before it) can repeat an object on the next page.
        var script = new Script([[Node("a", "1"), Node("b", "2")], [Node("b", "2"), Node("c", "3")], [Node("d", "4")]]);

        var emitted = await script.RunUntilSyncedAsync(1);

        Assert.Equal([0, 2, 3], script.EmittedWhenPageAsked.Take(3));
        Assert.Equal(["a", "b", "c", "d"], emitted.OfType<KubeObjectChange<V1Node>>().Select(c => c.Object.Metadata.Name));
        Assert.Equal(4, emitted.OfType<KubeListSynced<V1Node>>().Single().Count);
    }

    [Fact]
    public async Task The_loop_keeps_no_listed_object_alive_while_it_watches()
    {
        WeakReference<V1Node>? listed = null;
        var emitted = new ConcurrentQueue<object>();
        var watching = new TaskCompletionSource();
        var loop = new KubeListWatchLoop<V1Node>("nodes",
            (_, _, _) => Task.FromResult(OnePage(out listed)),
            (_, _, ct) => WatchForever(watching, ct),
            emitted.Enqueue, Fast, NoLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = loop.RunAsync(cts.Token);
        await watching.Task.WaitAsync(Wait);
        Assert.Equal(2, emitted.Count);

        // The consumer drops what it was sent; only the loop could keep the Node alive now.
        emitted.Clear();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(listed!.TryGetTarget(out _), "the loop still references a listed Node");
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_list_that_gets_no_answer_is_abandoned_and_retried()
    {
        // The first list hangs like a request written on a connection that died while the API server was cut off.
        var lists = 0;
        var emitted = new ConcurrentQueue<object>();
        var loop = new KubeListWatchLoop<V1Node>("nodes",
            async (_, _, ct) =>
            {
                if (Interlocked.Increment(ref lists) == 1) await Task.Delay(Timeout.Infinite, ct);
                return ([Node("a", "1")], "1", null);
            },
            (_, _, ct) => WatchForever(new TaskCompletionSource(), ct),
            emitted.Enqueue, Fast with { ListTimeout = TimeSpan.FromMilliseconds(200) }, NoLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = loop.RunAsync(cts.Token);
        await Poll.UntilAsync(() => Task.FromResult(emitted.OfType<KubeListSynced<V1Node>>().Any()), Wait, "listed after the hung list was abandoned", 10);
        Assert.Equal(2, lists);
        await cts.CancelAsync();
        await run;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (IList<V1Node>, string, string?) OnePage(out WeakReference<V1Node> listed)
    {
        var node = Node("a", "1");
        listed = new WeakReference<V1Node>(node);
        return ([node], "1", null);
    }

    private static async IAsyncEnumerable<(WatchEventType, V1Node)> WatchForever(TaskCompletionSource watching,
        [EnumeratorCancellation] CancellationToken ct)
    {
        watching.TrySetResult();
        await Task.Delay(Timeout.Infinite, ct);
        yield break;
    }
}
