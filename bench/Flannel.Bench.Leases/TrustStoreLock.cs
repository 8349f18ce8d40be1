using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;

namespace Flannel.Bench.Leases;

/// <summary>
/// An in-process-only contention, and the harness's way around it (profile in bench/leases/RESULTS.md, 2026-12-01).
/// Every TLS handshake makes .NET build four X509 chains against the system trust store (SslStream checks the peer's
/// certificate before our validator, and builds its own certificate's chain on each end), and each of those asks
/// .NET's OpenSslCachedSystemStoreProvider for the cached store. Once 5 s have passed since the store was loaded, that
/// call takes one process-wide lock and stats the certificate files on every call (the recheck timer is restarted
/// only when the store is reloaded, every 5 min). One agent per process takes it a few hundred times at start, alone.
/// N nodes in one process take it 4 x N(N-1) times at once on 2 cores: in a 50-node TLS run, threads spent 1 100
/// thread-seconds waiting for it, 600 of them DotNetty event-loop threads (every connection of that node stalled).
/// <see cref="Start"/> restarts that recheck timer every second, so the lock stays untaken, as it is for an agent
/// that is not handshaking with 99 peers of its own process at the same moment. The check itself (the files'
/// timestamps) is skipped for the run: the bench never changes the system store. LEASES_BENCH_TRUST_STORE_LOCK=keep
/// measures without it.
/// </summary>
public static class TrustStoreLock
{
    /// <summary>The runtime's recheck stopwatch, or null when this runtime has no such field (then nothing is done).</summary>
    public static Stopwatch? RecheckStopwatch() =>
        typeof(X509Certificate2).Assembly
            .GetType("System.Security.Cryptography.X509Certificates.OpenSslCachedSystemStoreProvider")
            ?.GetField("s_recheckStopwatch", BindingFlags.NonPublic | BindingFlags.Static)
            ?.GetValue(null) as Stopwatch;

    /// <summary>"avoided", "kept" (asked to), or "not found" (another runtime: the line says so).</summary>
    public static string Start(X509Certificate2 anyCertificate)
    {
        if (Environment.GetEnvironmentVariable("LEASES_BENCH_TRUST_STORE_LOCK") == "keep") return "kept";
        var watch = RecheckStopwatch();
        if (watch is null) return "not found";
        // Load the store once (any chain build with the default policy does), then keep its recheck timer young.
        using (var chain = new X509Chain()) chain.Build(anyCertificate);
        _timer = new Timer(_ => watch.Restart(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        return "avoided";
    }

    private static Timer? _timer;
}
