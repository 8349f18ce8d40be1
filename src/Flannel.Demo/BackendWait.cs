using Flannel.Testing;

namespace Flannel.Demo;

/// <summary>Waiting for a live backend switch to reach every agent of a <see cref="ClusterTopology"/>.</summary>
public static class BackendWait
{
    /// <summary>
    /// Waits until every running agent is ready on <paramref name="backend"/> and every lease it sees advertises it (the
    /// whole cluster switched); throws with each agent's view otherwise. Returns how long it took.
    /// </summary>
    public static async Task<TimeSpan> UntilAllOnAsync(ClusterTopology cluster, string backend, TimeSpan timeout, CancellationToken ct = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = new Dictionary<string, string>();
        await Poll.UntilAsync(async () =>
        {
            var done = true;
            foreach (var h in cluster.Hosts.Where(h => h.Agent is { HasExited: false } && h.Client is not null))
            {
                string view;
                try
                {
                    var s = await h.Client!.StatusAsync(ct).ConfigureAwait(false);
                    var leases = s.Leases.Where(l => l.Expiration > DateTimeOffset.UtcNow).ToList();
                    var ok = s.Ready && s.Backend == backend && leases.Count > 0 && leases.All(l => l.Backend == backend);
                    view = $"ready={s.Ready} backend={s.Backend} leases=[{string.Join(",", leases.Select(l => l.Node + ":" + l.Backend))}] {string.Join("; ", s.NotReady)}";
                    done &= ok;
                }
                catch (Exception e) when (e is Flannel.Host.Ctl.CtlUnavailableException or InvalidOperationException or TaskCanceledException
                                           or System.Text.Json.JsonException)
                {
                    view = "not answering";
                    done = false;
                }
                last[h.NodeName] = view;
            }
            return done;
        }, timeout, () => $"every agent switched to {backend}: " + string.Join("; ", last.Select(kv => $"{kv.Key}: {kv.Value}")), 100, ct)
            .ConfigureAwait(false);
        return clock.Elapsed;
    }
}
