namespace Flannel.Bench.Leases;

/// <summary>
/// One run's convergence time and the summary of a mode's runs. A run that did not converge within the deadline has no
/// convergence time: it counts as a timeout (timed_out_runs), never as a time in the median, and the summary has no
/// converge_s unless every run converged (a median over the survivors would hide the failures).
/// </summary>
public static class Convergence
{
    /// <summary>The run's converge_s: how long it took, or null when it did not converge.</summary>
    public static double? Seconds(bool converged, TimeSpan elapsed) => converged ? Math.Round(elapsed.TotalSeconds, 3) : null;

    public static double? Median(IEnumerable<double> xs)
    {
        var s = xs.Order().ToArray();
        if (s.Length == 0) return null;
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static double? Median(IEnumerable<object?> xs, int digits) =>
        Median(xs.OfType<double>()) is { } m ? Math.Round(m, digits) : null;

    /// <summary>One mode's runs (each as <c>Run</c> returns it) as one JSON object.</summary>
    public static Dictionary<string, object?> Summary(IReadOnlyList<Dictionary<string, object?>> results)
    {
        var converge = results.Select(x => x["converge_s"]).ToList();
        var timedOut = results.Count(x => x["converge_s"] is null);
        return new Dictionary<string, object?>
        {
            ["converge_s"] = timedOut == 0 ? Median(converge, 3) : null,
            ["timed_out_runs"] = timedOut,
            ["duplicates"] = results.Sum(x => (int)x["duplicates"]!),
            ["leases"] = results.Min(x => (int)x["leases"]!),
            ["start_s"] = Median(results.Select(x => x["start_s"]), 3),
            ["join_up_s"] = Median(results.SelectMany(x => ((double[])x["join_up_all"]!).Cast<object?>()), 3),
            ["runs"] = results.Count,
            // null where a run timed out.
            ["converge_s_all"] = converge,
            ["min_table"] = results.Min(x => (int)x["min_table"]!),
            ["converged_runs"] = results.Count(x => (bool)x["converged"]!),
            ["all_up_s"] = Median(results.Select(x => x["all_up_s"]), 3),
            // Over the runs that converged (a run that did not has no lease layer time).
            ["lease_after_up_s"] = Median(results.Select(x => x["lease_after_up_s"]), 3),
            ["rss_per_node_mib"] = Median(results.Select(x => x["rss_per_node_mib"]), 1),
            ["heap_per_node_mib"] = Median(results.Select(x => x["heap_per_node_mib"]), 2),
            ["idle_cores"] = Median(results.Select(x => x["idle_cores"]), 2),
            ["threads"] = results.Max(x => (int)x["threads"]!),
            ["gc_pause_s"] = Median(results.Select(x => x["gc_pause_s"]), 2),
            ["gc_pause_share"] = Median(results.Select(x => x["gc_pause_share"]), 2),
            ["cpu_s"] = Median(results.Select(x => x["cpu_s"]), 2),
            ["connections_per_pair"] = Median(results.Select(x => x["connections_per_pair"]), 2),
            ["tls_handshakes"] = Median(results.Select(x => x["tls_handshakes"] is long h ? (object?)(double)h : null), 0),
        };
    }

    /// <summary>
    /// `Flannel.Bench.Leases --self-check` (bench/leases.sh runs it first): a run that timed out must show as a timeout in
    /// the run and in the summary, never as a convergence time. Returns what is wrong (empty: all good).
    /// </summary>
    public static List<string> SelfCheck()
    {
        var wrong = new List<string>();
        var timedOutRun = Seconds(converged: false, TimeSpan.FromSeconds(90.5));
        if (timedOutRun is not null) wrong.Add($"a run that did not converge reports converge_s {timedOutRun}");
        if (Seconds(converged: true, TimeSpan.FromSeconds(4.2)) != 4.2) wrong.Add("a converged run does not report its time");

        Dictionary<string, object?> RunOf(double? seconds) => new()
        {
            ["converge_s"] = seconds, ["converged"] = seconds is not null, ["duplicates"] = 0, ["leases"] = 3, ["start_s"] = 0.5,
            ["join_up_all"] = new[] { 1.0, 1.2 }, ["min_table"] = 3, ["all_up_s"] = 2.0,
            ["lease_after_up_s"] = seconds - 2.0, ["rss_per_node_mib"] = 1.0, ["heap_per_node_mib"] = 0.5, ["idle_cores"] = 0.1,
            ["threads"] = 40, ["gc_pause_s"] = 0.1, ["cpu_s"] = 1.0, ["connections_per_pair"] = 1.0, ["tls_handshakes"] = 6L, ["gc_pause_share"] = seconds is { } s ? 0.1 / s : null,
        };
        var mixed = Summary([RunOf(4.0), RunOf(timedOutRun), RunOf(5.0)]);
        if (mixed["converge_s"] is not null) wrong.Add($"2 of 3 runs converged, yet the summary says converge_s {mixed["converge_s"]}");
        if (mixed["timed_out_runs"] is not 1) wrong.Add($"timed_out_runs is {mixed["timed_out_runs"]}, not 1");
        if (mixed["converge_s_all"] is not List<object?> all || all.Count(x => x is null) != 1 || all.OfType<double>().Any(x => x > 5))
            wrong.Add("converge_s_all does not show the timed-out run as null beside the others' times");
        var good = Summary([RunOf(4.0), RunOf(6.0), RunOf(5.0)]);
        if (good["converge_s"] is not 5.0) wrong.Add($"3 converged runs of 4, 6, 5 s give converge_s {good["converge_s"]}, not 5");
        if (good["timed_out_runs"] is not 0) wrong.Add("converged runs counted as timed out");
        return wrong;
    }
}
