namespace Flannel.Demo;

/// <summary>Every pod pings every other pod once (with the usual retries for the first ARP), six pairs at a time.</summary>
public static class PodPings
{
    public static IReadOnlyDictionary<(Pod From, Pod To), bool> Matrix(IReadOnlyList<Pod> pods) =>
        (from a in pods from b in pods where a != b select (a, b)).ToList()
            .AsParallel().WithDegreeOfParallelism(6)
            .Select(p => (p.a, p.b, ok: ClusterTopology.Ping(p.a, p.b)))
            .ToDictionary(r => (r.a, r.b), r => r.ok);

    public static (int Reachable, int Total) Count(IReadOnlyList<Pod> pods)
    {
        var matrix = Matrix(pods);
        return (matrix.Count(r => r.Value), matrix.Count);
    }
}
