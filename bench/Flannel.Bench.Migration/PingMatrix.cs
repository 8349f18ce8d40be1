using Flannel.Demo;

namespace Flannel.Bench.Migration;

/// <summary>A ping from every pod to every other pod at once (PingRecorder per ordered pair), read per step.</summary>
public sealed class PingMatrix(IReadOnlyList<Pod> pods, TimeSpan interval) : IDisposable
{
    private List<(Pod From, Pod To, PingRecorder Ping)> _running = [];

    public void Start() =>
        _running = (from a in pods from b in pods where a != b select (a, b, PingRecorder.Start(a, b, interval))).ToList();

    /// <summary>Stops every ping and returns what each pair saw since <see cref="Start"/>.</summary>
    public IReadOnlyList<(string Pair, PingLoss Loss)> Stop()
    {
        var result = _running.AsParallel().AsOrdered().Select(r => ($"{r.From.Name}->{r.To.Name}", r.Ping.Stop())).ToList();
        foreach (var r in _running) r.Ping.Dispose();
        _running = [];
        return result;
    }

    public void Dispose()
    {
        foreach (var r in _running) r.Ping.Dispose();
    }
}
