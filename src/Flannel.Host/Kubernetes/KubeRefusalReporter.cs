using Akka.Actor;
using Flannel.Actors.NetConfig;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Kubernetes;

/// <summary>Turns refused net-conf.json changes (<see cref="ClusterNetConfRefused"/> on the event stream) into Warning
/// Events on the kube-flannel-cfg ConfigMap, so `kubectl describe configmap` / `kubectl get events` show why.</summary>
public sealed class KubeRefusalReporter : ReceiveActor
{
    public KubeRefusalReporter(KubeEventRecorder recorder, string configMapNamespace, string configMapName, string nodeName, ILogger log)
    {
        ReceiveAsync<ClusterNetConfRefused>(async m =>
        {
            try
            {
                await recorder.ConfigRefusedAsync(configMapNamespace, configMapName,
                    $"node {nodeName}: net-conf.json from {m.Source} refused: {m.Reason}; the previous config keeps running");
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or TaskCanceledException)
            {
                log.LogWarning("cannot record the refusal as a Kubernetes Event: {Error}", e.Message);
            }
        });
    }

    public static Props Props(KubeEventRecorder recorder, string configMapNamespace, string configMapName, string nodeName, ILogger log) =>
        Akka.Actor.Props.Create(() => new KubeRefusalReporter(recorder, configMapNamespace, configMapName, nodeName, log));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ClusterNetConfRefused));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
