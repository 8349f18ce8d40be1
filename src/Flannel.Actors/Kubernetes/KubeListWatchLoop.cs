using Akka.Event;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Flannel.Actors.Kubernetes;

public enum KubeChangeType { Added, Modified, Deleted }

/// <summary>One change seen by a <see cref="KubeListWatchLoop{T}"/>: from the watch stream or from diffing a (re)list.</summary>
/// <param name="Listed">Found by a (re)list rather than sent by the watch (the first list "adds" everything).</param>
/// <remarks>A deletion found by a re-list carries only the metadata the loop kept (name, namespace, resourceVersion): consumers
/// report the last state they knew themselves.</remarks>
public sealed record KubeObjectChange<T>(KubeChangeType Type, T Object, bool Listed = false) where T : IKubernetesObject<V1ObjectMeta>;

/// <summary>
/// Sent after every complete (re)list, once its changes have been sent: the consumer now knows exactly the
/// <paramref name="Count"/> listed objects and can reconcile against what it holds. <paramref name="Started"/> is when
/// the first page was asked for, so the consumer can tell how long the list took until it had applied it all.
/// </summary>
public sealed record KubeListSynced<T>(int Count, DateTimeOffset Started) where T : IKubernetesObject<V1ObjectMeta>;

/// <summary>
/// The informer the client library lacks: list, then watch from the list's resourceVersion with bookmarks; resume a
/// broken watch from the last version seen (event or bookmark); on 410 Expired (KubernetesClient 21 reports it only
/// through the watch's onError callback and then just ends the enumeration) re-list and diff against what was known,
/// so a consumer sees every add, change and delete exactly as if the watch had never broken. Failures back off
/// exponentially. Changes go to a callback (the owning actor's mailbox): there is no bounded queue to overflow.
/// Only each object's resourceVersion is kept for the diff, not the object: with thousands of Nodes (images, conditions,
/// managed fields) the objects would cost megabytes that nobody reads.
/// </summary>
public sealed class KubeListWatchLoop<T> where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    public delegate Task<(IList<T> Items, string ResourceVersion, string? Continue)> ListPage(string? continueToken, int limit, CancellationToken ct);

    public delegate IAsyncEnumerable<(WatchEventType Type, T Object)> WatchFrom(string resourceVersion, Action<Exception> onError, CancellationToken ct);

    private readonly string _what;
    private readonly ListPage _list;
    private readonly WatchFrom _watch;
    private readonly Action<object> _emit;
    private readonly KubeWatchOptions _options;
    private readonly ILoggingAdapter _log;
    // key (namespace/name) -> the last resourceVersion seen of that object.
    private readonly Dictionary<string, string?> _known = new();

    /// <param name="what">Names the watched objects in log lines, e.g. "nodes".</param>
    /// <param name="emit">Receives <see cref="KubeObjectChange{T}"/> and <see cref="KubeListSynced{T}"/>, in order.</param>
    public KubeListWatchLoop(string what, ListPage list, WatchFrom watch, Action<object> emit, KubeWatchOptions options, ILoggingAdapter log)
    {
        _what = what;
        _list = list;
        _watch = watch;
        _emit = emit;
        _options = options;
        _log = log;
    }

    /// <summary>Number of completed (re)lists; tests use it to see that a 410 forced a re-list.</summary>
    public int ListCount { get; private set; }

    public async Task RunAsync(CancellationToken ct)
    {
        string? resourceVersion = null;
        var backoff = _options.InitialBackoff;
        while (!ct.IsCancellationRequested)
        {
            var delivered = false;
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await RelistAsync(ct);
                    backoff = _options.InitialBackoff;
                }
                Exception? watchError = null;
                // A half-open connection delivers nothing forever; the server ends every watch after
                // WatchTimeoutSeconds, so silence well beyond that means the connection is dead.
                var idleLimit = TimeSpan.FromSeconds(_options.WatchTimeoutSeconds + 60);
                using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                watchCts.CancelAfter(idleLimit);
                await foreach (var (type, obj) in _watch(resourceVersion, e => watchError = e, watchCts.Token))
                {
                    delivered = true;
                    watchCts.CancelAfter(idleLimit);
                    resourceVersion = Apply(type, obj) ?? resourceVersion;
                }
                if (IsExpired(watchError))
                {
                    _log.Info("Watch of {What} expired at resourceVersion {ResourceVersion}; re-listing", _what, resourceVersion);
                    resourceVersion = null;
                    continue;
                }
                if (watchError is not null) throw watchError;
                // A clean end (server timeout, restart, load balancer) resumes at once from the last version seen.
                if (delivered) backoff = _options.InitialBackoff;
                else await DelayAsync(TimeSpan.FromMilliseconds(Math.Min(200, backoff.TotalMilliseconds)), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsExpired(e))
            {
                _log.Info("Watch of {What} refused resourceVersion {ResourceVersion} as expired; re-listing", _what, resourceVersion);
                resourceVersion = null;
            }
            catch (Exception e)
            {
                if (delivered) backoff = _options.InitialBackoff;
                _log.Warning("List/watch of {What} failed ({Error}); retrying in {Backoff}", _what, e.Message, backoff);
                await DelayAsync(backoff, ct);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
            }
        }
    }

    // Each page's changes are sent as the page arrives, so a list of thousands of Nodes never has them all in memory at
    // once (the consumer maps and drops them while the next page loads). Deletions (known, not listed) follow the last page.
    private async Task<string> RelistAsync(CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var listed = new HashSet<string>(StringComparer.Ordinal);
        string? firstVersion = null, token = null;
        do
        {
            var (page, version, next) = await ListPageAsync(token, ct);
            // The first page's version is the safe resume point: every later change is replayed by the watch.
            firstVersion ??= version;
            foreach (var item in page)
            {
                var key = Key(item);
                var itemVersion = item.Metadata?.ResourceVersion;
                listed.Add(key);
                if (!_known.TryGetValue(key, out var old))
                    _emit(new KubeObjectChange<T>(KubeChangeType.Added, item, Listed: true));
                else if (old != itemVersion)
                    _emit(new KubeObjectChange<T>(KubeChangeType.Modified, item, Listed: true));
                _known[key] = itemVersion;
            }
            token = string.IsNullOrEmpty(next) ? null : next;
        } while (token is not null);

        foreach (var (key, version) in _known.Where(k => !listed.Contains(k.Key)).ToList())
        {
            _known.Remove(key);
            _emit(new KubeObjectChange<T>(KubeChangeType.Deleted, Tombstone(key, version), Listed: true));
        }
        ListCount++;
        _emit(new KubeListSynced<T>(listed.Count, started));
        _log.Debug("Listed {Count} {What} at resourceVersion {ResourceVersion}", listed.Count, _what, firstVersion);
        return firstVersion ?? "";
    }

    private async Task<(IList<T> Items, string ResourceVersion, string? Continue)> ListPageAsync(string? token, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.ListTimeout);
        try
        {
            return await _list(token, _options.ListPageSize, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer to the list of {_what} within {_options.ListTimeout.TotalSeconds:0} s");
        }
    }

    // Returns the resourceVersion to resume from after this event.
    private string? Apply(WatchEventType type, T obj)
    {
        var version = obj.Metadata?.ResourceVersion;
        switch (type)
        {
            case WatchEventType.Added or WatchEventType.Modified:
                var key = Key(obj);
                var existed = _known.ContainsKey(key);
                _known[key] = version;
                _emit(new KubeObjectChange<T>(existed ? KubeChangeType.Modified : KubeChangeType.Added, obj));
                break;
            case WatchEventType.Deleted:
                // The watch carries the last state of a deleted object; an unknown one is still reported (it may
                // have been created and deleted between a list and this event).
                _known.Remove(Key(obj));
                _emit(new KubeObjectChange<T>(KubeChangeType.Deleted, obj));
                break;
            case WatchEventType.Bookmark:
                break;
            default:
                _log.Warning("Ignoring watch event {Type} for {What}", type, _what);
                return null;
        }
        return string.IsNullOrEmpty(version) ? null : version;
    }

    private static string Key(T obj) => $"{obj.Metadata?.NamespaceProperty}/{obj.Metadata?.Name}";

    // What a re-list can say of an object that vanished: its identity and the last version seen.
    private static T Tombstone(string key, string? version)
    {
        var slash = key.IndexOf('/');
        var ns = key[..slash];
        return new T
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = ns.Length == 0 ? null : ns, Name = key[(slash + 1)..], ResourceVersion = version },
        };
    }

    private static bool IsExpired(Exception? e) => e switch
    {
        KubernetesException k => k.Status?.Code == 410,
        HttpOperationException h => (int?)h.Response?.StatusCode == 410,
        _ => false,
    };

    private static async Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try { await Task.Delay(delay, ct); }
        catch (OperationCanceledException) { }
    }
}
