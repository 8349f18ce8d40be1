namespace Flannel.Bench.Leases;

/// <summary>
/// The TCP connections between this process's own nodes: established sockets (/proc/net/tcp, state 01) whose inode is
/// one of this process's file descriptors, halved (both ends of an in-process connection are ours). Compared with the
/// N(N-1)/2 node pairs it says how many connections, hence TLS handshakes, Akka.Remote opens per pair.
/// </summary>
public static class InProcessConnections
{
    public static int Count()
    {
        var mine = new HashSet<string>();
        foreach (var fd in Directory.EnumerateFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    mine.Add(target[8..^1]);
            }
            catch (IOException)
            {
                // closed while we looked
            }
        }
        var sockets = 0;
        foreach (var file in new[] { "/proc/self/net/tcp", "/proc/self/net/tcp6" })
        {
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[3] == "01" && mine.Contains(f[9])) sockets++;
            }
        }
        return sockets / 2;
    }

    /// <summary>Connections per node pair (1: one per pair; 2: both ends dialled).</summary>
    public static double PerPair(int connections, int nodes) =>
        nodes < 2 ? 0 : Math.Round(connections / (nodes * (nodes - 1) / 2.0), 2);

    /// <summary>Part of `--self-check`: the per-pair arithmetic. Returns what is wrong (empty: all good).</summary>
    public static List<string> SelfCheck()
    {
        var wrong = new List<string>();
        if (PerPair(190, 20) != 1.0) wrong.Add($"190 connections among 20 nodes give {PerPair(190, 20)} per pair, not 1");
        if (PerPair(9900, 100) != 2.0) wrong.Add($"9900 connections among 100 nodes give {PerPair(9900, 100)} per pair, not 2");
        if (PerPair(0, 1) != 0) wrong.Add("one node has no pairs, yet PerPair is not 0");
        return wrong;
    }
}
