using System.Runtime.InteropServices;
using System.Text;

namespace Flannel.Net.Bpf;

/// <summary>
/// The bpf(2) commands the udp BPF path uses, with <c>union bpf_attr</c> laid out by hand (x86_64 and arm64 share it).
/// Every call zeroes its attribute block: the kernel refuses non-zero bytes past the fields it knows.
/// </summary>
public static unsafe class BpfSyscall
{
    private const int AttrSize = 144;
    private static readonly long SysBpf = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 280 : 321;

    public const int MapCreate = 0, MapLookupElem = 1, MapUpdateElem = 2, MapDeleteElem = 3, MapGetNextKey = 4,
        ProgLoad = 5, ProgGetFdById = 13, MapGetFdById = 14, ObjGetInfoByFd = 15, ProgQuery = 16, LinkCreate = 28;
    public const uint ProgTypeSchedCls = 3;
    public const uint AttachTcxIngress = 46, AttachTcxEgress = 47;
    public const int PseudoMapFd = 1;

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long syscall(long number, long cmd, void* attr, long size);

    private static int Call(int cmd, byte* attr, string what)
    {
        long r = syscall(SysBpf, cmd, attr, AttrSize);
        if (r < 0) throw new BpfException(what, Marshal.GetLastPInvokeError());
        return (int)r;
    }

    private static void Name(byte* at, string name)
    {
        var bytes = Encoding.ASCII.GetBytes(name);
        for (int i = 0; i < Math.Min(bytes.Length, 15); i++) at[i] = bytes[i];
    }

    public static int CreateMap(string name, uint type, uint keySize, uint valueSize, uint maxEntries, uint flags)
    {
        byte* a = stackalloc byte[AttrSize];
        new Span<byte>(a, AttrSize).Clear();
        *(uint*)(a + 0) = type;
        *(uint*)(a + 4) = keySize;
        *(uint*)(a + 8) = valueSize;
        *(uint*)(a + 12) = maxEntries;
        *(uint*)(a + 16) = flags;
        Name(a + 28, name);
        return Call(MapCreate, a, $"create map {name}");
    }

    private static int Elem(int cmd, int mapFd, void* key, void* value, ulong flags, string what)
    {
        byte* a = stackalloc byte[AttrSize];
        new Span<byte>(a, AttrSize).Clear();
        *(uint*)(a + 0) = (uint)mapFd;
        *(ulong*)(a + 8) = (ulong)key;
        *(ulong*)(a + 16) = (ulong)value;
        *(ulong*)(a + 24) = flags;
        return Call(cmd, a, what);
    }

    public static void Update(int mapFd, void* key, void* value) => Elem(MapUpdateElem, mapFd, key, value, 0, "map update");

    public static void Lookup(int mapFd, void* key, void* value) => Elem(MapLookupElem, mapFd, key, value, 0, "map lookup");

    /// <summary>Deletes <paramref name="key"/>; false when it was not there.</summary>
    public static bool Delete(int mapFd, void* key)
    {
        try
        {
            Elem(MapDeleteElem, mapFd, key, null, 0, "map delete");
            return true;
        }
        catch (BpfException e) when (e.Errno == 2)
        {
            return false;
        }
    }

    /// <summary>Loads a program; on refusal the exception carries the verifier's log.</summary>
    public static int LoadProgram(string name, uint type, ReadOnlySpan<byte> instructions, string license)
    {
        const int logSize = 1 << 20;
        var log = (byte*)NativeMemory.AllocZeroed(logSize);
        var lic = Encoding.ASCII.GetBytes(license + "\0");
        try
        {
            fixed (byte* insns = instructions)
            fixed (byte* licp = lic)
            {
                byte* a = stackalloc byte[AttrSize];
                for (int attempt = 0; ; attempt++)
                {
                    new Span<byte>(a, AttrSize).Clear();
                    *(uint*)(a + 0) = type;
                    *(uint*)(a + 4) = (uint)(instructions.Length / 8);
                    *(ulong*)(a + 8) = (ulong)insns;
                    *(ulong*)(a + 16) = (ulong)licp;
                    // First without a log (cheaper); on failure again with the verifier's log for the error message.
                    if (attempt > 0)
                    {
                        *(uint*)(a + 24) = 1;
                        *(uint*)(a + 28) = logSize;
                        *(ulong*)(a + 32) = (ulong)log;
                    }
                    Name(a + 48, name);
                    long r = syscall(SysBpf, ProgLoad, a, AttrSize);
                    if (r >= 0) return (int)r;
                    int errno = Marshal.GetLastPInvokeError();
                    if (attempt == 0) continue;
                    var text = Marshal.PtrToStringAnsi((nint)log) ?? "";
                    throw new BpfException($"load program {name}", errno, text);
                }
            }
        }
        finally
        {
            NativeMemory.Free(log);
        }
    }

    /// <summary>Attaches <paramref name="progFd"/> to a device's TCX hook; the program stays attached while the returned link fd is open.</summary>
    public static int AttachTcx(int progFd, int ifindex, uint attachType)
    {
        byte* a = stackalloc byte[AttrSize];
        new Span<byte>(a, AttrSize).Clear();
        *(uint*)(a + 0) = (uint)progFd;
        *(uint*)(a + 4) = (uint)ifindex;
        *(uint*)(a + 8) = attachType;
        return Call(LinkCreate, a, $"attach to ifindex {ifindex} ({(attachType == AttachTcxIngress ? "tcx ingress" : "tcx egress")})");
    }

    /// <summary>How many programs are attached to a device's TCX hook (BPF_PROG_QUERY), in the calling thread's namespace.</summary>
    public static int QueryTcx(int ifindex, uint attachType)
    {
        byte* a = stackalloc byte[AttrSize];
        new Span<byte>(a, AttrSize).Clear();
        *(uint*)(a + 0) = (uint)ifindex;
        *(uint*)(a + 4) = attachType;
        Call(ProgQuery, a, $"query ifindex {ifindex}");
        return (int)*(uint*)(a + 24);
    }

    /// <summary>
    /// The ids of the programs attached to a device's TCX hook (BPF_PROG_QUERY with an id buffer), in the calling thread's
    /// namespace. Program and map ids are system-wide and not reused soon, so they name exactly these objects later.
    /// </summary>
    public static IReadOnlyList<uint> QueryTcxIds(int ifindex, uint attachType)
    {
        const int max = 64;
        uint* ids = stackalloc uint[max];
        byte* a = stackalloc byte[AttrSize];
        new Span<byte>(a, AttrSize).Clear();
        *(uint*)(a + 0) = (uint)ifindex;
        *(uint*)(a + 4) = attachType;
        *(ulong*)(a + 16) = (ulong)ids;
        *(uint*)(a + 24) = max;
        Call(ProgQuery, a, $"query ifindex {ifindex}");
        return new ReadOnlySpan<uint>(ids, (int)Math.Min(*(uint*)(a + 24), max)).ToArray();
    }

    /// <summary>A loaded program's name and the ids of the maps it uses, or null when no program has this id (any more).</summary>
    public static (string Name, IReadOnlyList<uint> MapIds)? ProgramInfo(uint progId)
    {
        int fd = FdById(ProgGetFdById, progId);
        if (fd < 0) return null;
        try
        {
            const int max = 64, infoSize = 232;
            uint* mapIds = stackalloc uint[max];
            byte* info = stackalloc byte[infoSize];
            new Span<byte>(info, infoSize).Clear();
            *(uint*)(info + 52) = max;          // nr_map_ids
            *(ulong*)(info + 56) = (ulong)mapIds; // map_ids
            ObjectInfo(fd, info, infoSize);
            var name = Encoding.ASCII.GetString(new ReadOnlySpan<byte>(info + 64, 16)).TrimEnd('\0');
            return (name, new ReadOnlySpan<uint>(mapIds, (int)Math.Min(*(uint*)(info + 52), max)).ToArray());
        }
        finally
        {
            Native.LibC.close(fd);
        }
    }

    /// <summary>A map's name, or null when no map has this id (any more: freed once its last fd and program are gone).</summary>
    public static string? MapName(uint mapId)
    {
        int fd = FdById(MapGetFdById, mapId);
        if (fd < 0) return null;
        try
        {
            const int infoSize = 96;
            byte* info = stackalloc byte[infoSize];
            new Span<byte>(info, infoSize).Clear();
            ObjectInfo(fd, info, infoSize);
            return Encoding.ASCII.GetString(new ReadOnlySpan<byte>(info + 24, 16)).TrimEnd('\0');
        }
        finally
        {
            Native.LibC.close(fd);
        }
    }

    /// <summary>An fd for the program or map with this id; -1 when there is none (ENOENT). Close it.</summary>
    public static int FdById(int cmd, uint id)
    {
        byte* a = stackalloc byte[AttrSize];
        new Span<byte>(a, AttrSize).Clear();
        *(uint*)(a + 0) = id;
        long r = syscall(SysBpf, cmd, a, AttrSize);
        if (r >= 0) return (int)r;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == 2) return -1;
        throw new BpfException($"get fd of id {id}", errno);
    }

    private static void ObjectInfo(int fd, byte* info, int size)
    {
        byte* a = stackalloc byte[AttrSize];
        new Span<byte>(a, AttrSize).Clear();
        *(uint*)(a + 0) = (uint)fd;
        *(uint*)(a + 4) = (uint)size;
        *(ulong*)(a + 8) = (ulong)info;
        Call(ObjGetInfoByFd, a, $"info of fd {fd}");
    }

    /// <summary>Number of possible CPUs (the per-CPU map value count), from /sys/devices/system/cpu/possible ("0-3" or "0,2-5").</summary>
    public static int PossibleCpus()
    {
        var text = File.ReadAllText("/sys/devices/system/cpu/possible").Trim();
        int max = 0;
        foreach (var part in text.Split(','))
        {
            var range = part.Split('-');
            max = Math.Max(max, int.Parse(range[^1], System.Globalization.CultureInfo.InvariantCulture));
        }
        return max + 1;
    }
}

/// <summary>A refused bpf(2) call: what was tried, errno, and for a program load the verifier's log.</summary>
public sealed class BpfException(string what, int errno, string? verifierLog = null)
    : IOException($"bpf: {what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})" +
                  (string.IsNullOrEmpty(verifierLog) ? "" : $"\nverifier log:\n{Tail(verifierLog)}"))
{
    public int Errno { get; } = errno;

    public string? VerifierLog { get; } = verifierLog;

    // The verifier prints every instruction it walks; the reason is at the end.
    private static string Tail(string log) => log.Length <= 4000 ? log : "...\n" + log[^4000..];
}
