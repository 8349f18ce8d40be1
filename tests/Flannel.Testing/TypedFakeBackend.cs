using System.Collections.Concurrent;
using System.Net;
using Flannel.Net.Backends;

namespace Flannel.Testing;

/// <summary>A backend of a given type that records its calls into a shared log (to check the order across backends).</summary>
public sealed class TypedFakeBackend(string type, int mtu, ConcurrentQueue<string> log, string? leaseData = null) : IBackend
{
    public Exception? FailPrepare { get; init; }
    public string Type => type;
    public int Mtu => mtu;
    public string? LeaseData => leaseData;
    public void Prepare()
    {
        log.Enqueue($"{type} prepare");
        if (FailPrepare is { } e) throw e;
    }
    public void Configure(IPNetwork network, IPNetwork lease) => log.Enqueue($"{type} configure {lease}");
    public ReconcileReport Reconcile(IReadOnlyCollection<PeerLease> peers)
    {
        log.Enqueue($"{type} reconcile {peers.Count}");
        return ReconcileReport.Empty;
    }
    public IReadOnlyList<PeerRouteStatus> Inspect(IReadOnlyCollection<PeerLease> peers) => [];
    public void Teardown() => log.Enqueue($"{type} teardown");
    public void Dispose() => log.Enqueue($"{type} dispose");
}
