using System.Collections.Concurrent;
using System.Net;
using Flannel.Net.Backends;

namespace Flannel.Actors.Tests.Node;

/// <summary>A backend that keeps its "kernel" in memory: Reconcile adds/removes peers and reports what it changed.</summary>
public sealed class FakeBackend : IBackend
{
    private readonly object _lock = new();
    private readonly HashSet<PeerLease> _kernel = [];
    public ConcurrentQueue<string> Calls { get; } = new();
    public int ReconcileCount;
    public Func<ReconcileReport?>? FailNext;

    public string Type => "fake";
    public int Mtu => 1400;
    public string? LeaseData => null;

    public void Prepare() => Calls.Enqueue("prepare");

    public void Configure(IPNetwork network, IPNetwork lease) => Calls.Enqueue($"configure {network} {lease}");

    public ReconcileReport Reconcile(IReadOnlyCollection<PeerLease> peers)
    {
        Interlocked.Increment(ref ReconcileCount);
        if (FailNext?.Invoke() is { } failed) return failed;
        lock (_lock)
        {
            var added = peers.Where(p => _kernel.Add(p))
                .Select(p => new ReconcileChange(ReconcileKind.Route, p.Subnet, $"add route {p.Subnet} via {p.PublicIp}")).ToList();
            var removed = _kernel.Where(p => !peers.Contains(p)).ToList();
            foreach (var r in removed) _kernel.Remove(r);
            Calls.Enqueue($"reconcile {peers.Count}");
            return new ReconcileReport(added.Count, 0, removed.Count,
                added.Concat(removed.Select(r => new ReconcileChange(ReconcileKind.Route, r.Subnet, $"remove route {r.Subnet}"))).ToList(), []);
        }
    }

    /// <summary>Someone deletes a route by hand.</summary>
    public void Forget(IPNetwork subnet)
    {
        lock (_lock) _kernel.RemoveWhere(p => p.Subnet.Equals(subnet));
    }

    public IReadOnlyCollection<PeerLease> Kernel
    {
        get { lock (_lock) return _kernel.ToList(); }
    }

    public IReadOnlyList<PeerRouteStatus> Inspect(IReadOnlyCollection<PeerLease> peers)
    {
        lock (_lock)
            return peers.Select(p => new PeerRouteStatus(p.Subnet, p.PublicIp, p.BackendType,
                _kernel.Contains(p) ? PeerRouteState.InSync : PeerRouteState.Drift, $"route {p.Subnet}", null, [])).ToList();
    }

    public void Teardown() => Calls.Enqueue("teardown");

    public void Dispose() { }
}
