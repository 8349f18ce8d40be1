using System.Globalization;

namespace Flannel.Net.Memory;

/// <summary>One mapping of a process's address space, as a line of /proc/PID/maps gives it.</summary>
public readonly record struct MemoryMapping(ulong Start, ulong End, string Permissions, string Path)
{
    public ulong Length => End - Start;
    public bool Writable => Permissions.Length > 1 && Permissions[1] == 'w';
}

/// <summary>
/// Finds the mappings of one file (the process's own executable) in the text of /proc/PID/maps. Pure: the caller reads
/// the file and passes the executable's path (readlink /proc/self/exe).
/// </summary>
public static class ExecutableMappings
{
    /// <summary>
    /// The mappings whose path is <paramref name="executablePath"/> (also when the file was replaced since the start and
    /// the kernel shows it with a " (deleted)" suffix). Lines that are not mappings raise a <see cref="FormatException"/>
    /// naming the line: the format is the kernel's, a surprise means the parser is wrong, not the input.
    /// </summary>
    public static IReadOnlyList<MemoryMapping> Of(string mapsText, string executablePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(executablePath);
        var result = new List<MemoryMapping>();
        foreach (var raw in mapsText.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            var m = ParseLine(line);
            if (m.Path == executablePath || m.Path == executablePath + " (deleted)") result.Add(m);
        }
        return result;
    }

    /// <summary>"start-end perms offset dev inode [path]"; the path may hold spaces and is empty for anonymous memory.</summary>
    public static MemoryMapping ParseLine(string line)
    {
        var fields = line.Split(' ', 6, StringSplitOptions.None);
        if (fields.Length < 5) throw new FormatException($"/proc/self/maps: not a mapping line: '{line}'");
        var range = fields[0].Split('-');
        if (range.Length != 2
            || !ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end)
            || end < start)
            throw new FormatException($"/proc/self/maps: bad address range '{fields[0]}' in '{line}'");
        if (fields[1].Length != 4) throw new FormatException($"/proc/self/maps: bad permissions '{fields[1]}' in '{line}'");
        var path = fields.Length == 6 ? fields[5].TrimStart(' ') : "";
        return new MemoryMapping(start, end, fields[1], path);
    }
}
