using Akka.Actor;
using Flannel.Actors.NetConfig;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Agent;

/// <summary>
/// Offers --net-config-path to the cluster config whenever its text changes (outside Kubernetes; a mounted ConfigMap is
/// swapped by symlink, so the file is polled rather than watched by inode). At start the file is offered only for an
/// empty cluster config: a node's stale file must not overwrite a newer cluster-wide config.
/// </summary>
public sealed class NetConfFileWatcher : IAsyncDisposable
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public NetConfFileWatcher(string path, string initialJson, IActorRef clusterNetConf, TimeSpan interval, ILogger log)
    {
        clusterNetConf.Tell(new ProposeNetConf(initialJson, $"file {path}", OnlyIfUnset: true));
        _loop = RunAsync(path, initialJson, clusterNetConf, interval, log, _stop.Token);
    }

    private static async Task RunAsync(string path, string seen, IActorRef target, TimeSpan interval, ILogger log, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            string text;
            try
            {
                text = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogDebug("cannot read {Path}: {Error}", path, e.Message);
                continue;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (text == seen) continue;
            seen = text;
            log.LogInformation("{Path} changed; offering it to the cluster", path);
            target.Tell(new ProposeNetConf(text, $"file {path}"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
