using System.Globalization;

namespace Flannel.Demo;

/// <summary>
/// One reading of a process from /proc: memory (VmRSS, RssAnon, RssFile, RssShmem), threads, CPU ticks (utime+stime)
/// and voluntary context switches summed over its threads (each is one wake-up after a sleep), per thread too.
/// </summary>
public sealed record ProcSample(int Pid, double RssMib, double AnonMib, double FileMib, double ShmemMib, int Threads,
    long CpuTicks, long ChildTicks, long Wakeups, IReadOnlyDictionary<int, (string Name, long Wakeups, long Ticks)> ByThread)
{
    public static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static ProcSample Read(int pid)
    {
        var status = Fields(File.ReadAllLines($"/proc/{pid}/status"));
        var byThread = new Dictionary<int, (string, long, long)>();
        foreach (var dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var tid = int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
                var ts = Fields(File.ReadAllLines(Path.Combine(dir, "status")));
                byThread[tid] = (File.ReadAllText(Path.Combine(dir, "comm")).Trim(),
                    long.Parse(ts["voluntary_ctxt_switches"], CultureInfo.InvariantCulture), Ticks(File.ReadAllText(Path.Combine(dir, "stat"))));
            }
            catch (Exception e) when (e is IOException or KeyNotFoundException) { } // the thread ended meanwhile
        }
        return new ProcSample(pid, Kib(status["VmRSS"]) / 1024, (Kib(status["RssAnon"]) + Kib(status["RssShmem"])) / 1024,
            Kib(status["RssFile"]) / 1024, Kib(status["RssShmem"]) / 1024, int.Parse(status["Threads"], CultureInfo.InvariantCulture),
            Ticks(File.ReadAllText($"/proc/{pid}/stat")), Ticks(File.ReadAllText($"/proc/{pid}/stat"), children: true),
            byThread.Values.Sum(t => t.Item2), byThread);
    }

    /// <summary>
    /// utime + stime (fields 14 and 15), or with <paramref name="children"/> cutime + cstime (16 and 17: the processes
    /// the agent ran and reaped, e.g. iptables), counted after the command name, which may hold spaces.
    /// </summary>
    private static long Ticks(string stat, bool children = false)
    {
        var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var i = children ? 13 : 11;
        return long.Parse(rest[i], CultureInfo.InvariantCulture) + long.Parse(rest[i + 1], CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, string> Fields(IEnumerable<string> lines) =>
        lines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());

    private static double Kib(string value) => double.Parse(value.Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>CPU per cent of one core (own, and of the commands it ran) and wake-ups per second between two readings <paramref name="seconds"/> apart.</summary>
    public static (double CpuPct, double ChildCpuPct, double WakeupsPerS) Rates(ProcSample a, ProcSample b, double seconds) =>
        ((b.CpuTicks - a.CpuTicks) / TicksPerSecond / seconds * 100, (b.ChildTicks - a.ChildTicks) / TicksPerSecond / seconds * 100,
            (b.Wakeups - a.Wakeups) / seconds);

    /// <summary>The threads that ran and woke most between two readings, for finding what runs at idle.</summary>
    public static string TopThreads(ProcSample a, ProcSample b, double seconds, int n = 10) =>
        string.Join(", ", b.ByThread
            .Select(kv => (kv.Value.Name, Wakeups: kv.Value.Wakeups - (a.ByThread.TryGetValue(kv.Key, out var o) ? o.Wakeups : 0),
                Ticks: kv.Value.Ticks - (a.ByThread.TryGetValue(kv.Key, out var p) ? p.Ticks : 0)))
            .OrderByDescending(t => t.Ticks).ThenByDescending(t => t.Wakeups).Take(n)
            .Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name}:{t.Wakeups / seconds:0.#}/s,{t.Ticks}t")));

    /// <summary>Thread names with their counts, e.g. ".NET TP Worker x4, .NET Timer x1".</summary>
    public string ThreadNames() => string.Join(", ", ByThread.Values.GroupBy(t => t.Name).OrderByDescending(g => g.Count())
        .Select(g => $"{g.Key} x{g.Count()}"));
}
