using System.Net;
using Flannel.Actors.Node;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Kubernetes;

/// <summary>
/// Keeps the Node's flannel annotations equal to this agent's lease (backend type and data change with a live backend
/// switch) and sets NetworkUnavailable=False/FlannelIsUp once the data plane is really ready (readyz true: lease held,
/// backend configured, subnet.env written, every known peer programmed). Polls the agent's status once a second;
/// API errors are logged and retried.
/// </summary>
public sealed class KubeNodeStatusLoop : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public KubeNodeStatusLoop(NodeAnnotationPublisher publisher, string nodeName, AgentStatus status, bool setNetworkAvailable, ILogger log)
    {
        _loop = RunAsync(publisher, nodeName, status, setNetworkAvailable, log, _stop.Token);
    }

    private static async Task RunAsync(NodeAnnotationPublisher publisher, string nodeName, AgentStatus status, bool setNetworkAvailable,
        ILogger log, CancellationToken ct)
    {
        NodeAnnouncement? published = null;
        var conditionSet = !setNetworkAvailable;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var state = status.Current;
                if (state.Ready && state.Lease is { } lease)
                {
                    var wanted = new NodeAnnouncement(lease.BackendType, lease.BackendData, lease.PublicIp);
                    if (wanted != published)
                    {
                        await publisher.PublishAsync(nodeName, wanted, ct).ConfigureAwait(false);
                        published = wanted;
                    }
                    if (!conditionSet)
                    {
                        await publisher.MarkNetworkAvailableAsync(nodeName, ct).ConfigureAwait(false);
                        conditionSet = true;
                    }
                }
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or FormatException or TaskCanceledException)
            {
                log.LogWarning("cannot update node {Node} in Kubernetes: {Error}; retrying", nodeName, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
