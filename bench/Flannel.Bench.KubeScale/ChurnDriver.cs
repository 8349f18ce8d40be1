using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Flannel.Bench.KubeScale;

/// <summary>
/// Node churn at a fixed rate, the mix a large cluster sees: 30 % kubelet status heartbeats and 20 % label changes
/// (flannel reads neither), 30 % flannel annotation changes (backend-data, sometimes public-ip: peers that restarted),
/// 10 % deletions and 10 % new nodes (autoscaling). Writes are started on schedule (up to <see cref="MaxInFlight"/> at
/// once) so a slow server shows up as a lower achieved rate, not as a hidden pause; no two writes touch one node at once.
/// </summary>
public sealed class ChurnDriver(ApiClient api, IEnumerable<int> existing, int nextIndex, int seed = 42)
{
    public const int MaxInFlight = 32;

    private readonly object _gate = new();
    private readonly List<int> _live = existing.ToList();
    private readonly HashSet<int> _busy = [];
    private readonly Random _random = new(seed);
    private readonly List<double> _latenciesMs = [];
    private readonly Dictionary<string, int> _kinds = new(StringComparer.Ordinal);
    private int _next = nextIndex;
    private int _generation;
    private long _maxVersion;
    private int _failed;
    private string? _firstError;

    public sealed record Result(int Writes, int Failed, double Seconds, long MaxResourceVersion, DateTime LastWriteDone,
        IReadOnlyList<double> LatenciesMs, IReadOnlyDictionary<string, int> Kinds, string? FirstError, int Nodes);

    public long MaxResourceVersion => Interlocked.Read(ref _maxVersion);

    public async Task<Result> RunAsync(int rate, TimeSpan duration, CancellationToken ct)
    {
        var total = (int)(rate * duration.TotalSeconds);
        using var slots = new SemaphoreSlim(MaxInFlight);
        var tasks = new List<Task>(total);
        var clock = Stopwatch.StartNew();
        var lastDone = DateTime.UtcNow;
        for (var k = 0; k < total; k++)
        {
            var due = TimeSpan.FromSeconds(k / (double)rate);
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed, ct).ConfigureAwait(false);
            await slots.WaitAsync(ct).ConfigureAwait(false);
            var (kind, write) = Next(ct);
            tasks.Add(Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var version = await write().ConfigureAwait(false);
                    InterlockedMax(ref _maxVersion, version);
                    lock (_gate)
                    {
                        _latenciesMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        _kinds[kind] = _kinds.GetValueOrDefault(kind) + 1;
                        if (DateTime.UtcNow > lastDone) lastDone = DateTime.UtcNow;
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref _failed);
                    Interlocked.CompareExchange(ref _firstError, e.Message, null);
                }
                finally
                {
                    slots.Release();
                }
            }, ct));
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        lock (_gate)
            return new Result(_latenciesMs.Count, _failed, seconds, MaxResourceVersion, lastDone, _latenciesMs.ToList(),
                new Dictionary<string, int>(_kinds), _firstError, _live.Count);
    }

    // Picks the next write and reserves its node; the returned function performs it and releases the node.
    private (string Kind, Func<Task<long>> Write) Next(CancellationToken ct)
    {
        lock (_gate)
        {
            var generation = ++_generation;
            var r = _random.NextDouble();
            if (r >= 0.9)
            {
                var index = _next++;
                return ("add", () => Release(index, api.CreateNodeAsync(NodeObjects.Node(index), ct), added: true));
            }
            var node = PickIdle();
            var name = NodeObjects.Name(node);
            if (r >= 0.8)
            {
                _live.Remove(node);
                return ("delete", () => Release(node, api.DeleteNodeAsync(name, ct)));
            }
            if (r >= 0.5)
            {
                var change = generation % 4 == 0
                    ? new JsonObject { [NodeObjects.Prefix + "public-ip"] = NodeObjects.PublicIp(node, generation) }
                    : new JsonObject { [NodeObjects.Prefix + "backend-data"] = NodeObjects.BackendData(node, generation) };
                return ("annotation", () => Release(node, api.MergePatchAsync(name, new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = change } }, ct)));
            }
            if (r >= 0.3)
            {
                var label = new JsonObject { ["bench.flannel.io/churn"] = generation.ToString(CultureInfo.InvariantCulture) };
                return ("label", () => Release(node, api.MergePatchAsync(name, new JsonObject { ["metadata"] = new JsonObject { ["labels"] = label } }, ct)));
            }
            var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);
            var heartbeat = new JsonObject
            {
                ["status"] = new JsonObject
                {
                    ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True", ["lastHeartbeatTime"] = now }),
                },
            };
            return ("heartbeat", () => Release(node, api.StatusPatchAsync(name, heartbeat, ct)));
        }
    }

    private int PickIdle()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var node = _live[_random.Next(_live.Count)];
            if (_busy.Add(node)) return node;
        }
        throw new InvalidOperationException("no idle node to change");
    }

    private async Task<long> Release(int node, Task<long> write, bool added = false)
    {
        try
        {
            var version = await write.ConfigureAwait(false);
            if (added) lock (_gate) _live.Add(node);
            return version;
        }
        finally
        {
            lock (_gate) _busy.Remove(node);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }
}
