using System.Net;

namespace Flannel.Net.Backends;

/// <summary>
/// The agent's backend, replaceable while it runs (live backend switch). Everyone holds this one object; every call goes
/// to the current backend under one lock, so a reconcile pass never runs against a backend that is being torn down.
/// <see cref="SwitchTo"/> tears the old backend's devices, routes, FDB and neighbour entries down, then prepares and
/// configures the new one (its stale-state cleaner removes whatever the old one left); on failure the old one is restored.
/// </summary>
public sealed class SwitchableBackend(IBackend initial) : IBackend
{
    private readonly object _gate = new();
    private IBackend _current = initial;
    private IPNetwork? _network;
    private IPNetwork? _lease;

    /// <summary>The backend in use now (for type-specific views such as the udp tunnel's counters).</summary>
    public IBackend Current
    {
        get { lock (_gate) return _current; }
    }

    public string Type => Current.Type;
    public int Mtu => Current.Mtu;
    public string? LeaseData => Current.LeaseData;

    public void Prepare()
    {
        lock (_gate) _current.Prepare();
    }

    public void Configure(IPNetwork network, IPNetwork lease)
    {
        lock (_gate)
        {
            _current.Configure(network, lease);
            _network = network;
            _lease = lease;
        }
    }

    public ReconcileReport Reconcile(IReadOnlyCollection<PeerLease> peers)
    {
        lock (_gate) return _current.Reconcile(peers);
    }

    public IReadOnlyList<PeerRouteStatus> Inspect(IReadOnlyCollection<PeerLease> peers)
    {
        lock (_gate) return _current.Inspect(peers);
    }

    public void Teardown()
    {
        lock (_gate) _current.Teardown();
    }

    /// <summary>
    /// Replaces the current backend by <paramref name="next"/> (not yet prepared). When the lease is known the new backend
    /// is configured for it at once; otherwise the next <see cref="Configure"/> does it. Returns the old backend's type.
    /// Throws when the new backend cannot come up; the old one is then running again.
    /// </summary>
    public string SwitchTo(IBackend next)
    {
        lock (_gate)
        {
            var old = _current;
            old.Teardown();
            try
            {
                next.Prepare();
                if (_network is { } network && _lease is { } lease) next.Configure(network, lease);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                TryTeardown(next);
                next.Dispose();
                old.Prepare();
                if (_network is { } network && _lease is { } lease) old.Configure(network, lease);
                throw new InvalidOperationException($"backend {next.Type} cannot start ({e.Message}); {old.Type} restored", e);
            }
            _current = next;
            old.Dispose();
            return old.Type;
        }
    }

    private static void TryTeardown(IBackend backend)
    {
        try
        {
            backend.Teardown();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or Netlink.NetlinkException)
        {
            // It never came up completely; the stale-state cleaner of the restored backend removes what remains.
        }
    }

    public void Dispose()
    {
        lock (_gate) _current.Dispose();
    }
}
