using System.Runtime.InteropServices;

namespace Flannel.Net.Native;

/// <summary>
/// The libc calls the data path needs that Tmds.LibC lacks (mmsg, readv/writev, ioctl by value, eventfd, a poll that
/// records errno). Every import sets the last error so callers can read it with <see cref="Marshal.GetLastPInvokeError"/>.
/// None of them carries SuppressGCTransition: most block.
/// </summary>
public static unsafe class LibC
{
    private const string Lib = "libc";

    public const int O_RDWR = 0x2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public const int AF_INET = 2, SOCK_DGRAM = 2, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_REUSEPORT = 15,
        SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33, SO_ATTACH_REUSEPORT_CBPF = 51;
    public const int SOL_IP = 0, IP_MTU_DISCOVER = 10, IP_PMTUDISC_DONT = 0;
    public const int SOL_UDP = 17, UDP_SEGMENT = 103, UDP_GRO = 104;
    public const int MSG_DONTWAIT = 0x40;
    public const short POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;

    public const int EPERM = 1, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EBUSY = 16, EINVAL = 22,
        EMSGSIZE = 90, ENOPROTOOPT = 92, ENOBUFS = 105, ENETUNREACH = 101, ECONNREFUSED = 111, EHOSTUNREACH = 113;

    [DllImport(Lib, EntryPoint = "open", SetLastError = true)]
    public static extern int open(byte* path, int flags);

    [DllImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static extern int close(int fd);

    [DllImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static extern nint read(int fd, void* buf, nuint count);

    [DllImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static extern nint write(int fd, void* buf, nuint count);

    [DllImport(Lib, EntryPoint = "readv", SetLastError = true)]
    public static extern nint readv(int fd, IoVec* iov, int iovcnt);

    [DllImport(Lib, EntryPoint = "writev", SetLastError = true)]
    public static extern nint writev(int fd, IoVec* iov, int iovcnt);

    [DllImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static extern int ioctl(int fd, nuint request, void* arg);

    /// <summary>ioctl whose argument is passed by value (TUNSETOFFLOAD).</summary>
    [DllImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static extern int ioctl_value(int fd, nuint request, nuint arg);

    [DllImport(Lib, EntryPoint = "socket", SetLastError = true)]
    public static extern int socket(int domain, int type, int protocol);

    [DllImport(Lib, EntryPoint = "bind", SetLastError = true)]
    public static extern int bind(int fd, void* addr, uint addrlen);

    [DllImport(Lib, EntryPoint = "connect", SetLastError = true)]
    public static extern int connect(int fd, void* addr, uint addrlen);

    [DllImport(Lib, EntryPoint = "getsockname", SetLastError = true)]
    public static extern int getsockname(int fd, void* addr, uint* addrlen);

    [DllImport(Lib, EntryPoint = "setsockopt", SetLastError = true)]
    public static extern int setsockopt(int fd, int level, int name, void* value, uint len);

    [DllImport(Lib, EntryPoint = "getsockopt", SetLastError = true)]
    public static extern int getsockopt(int fd, int level, int name, void* value, uint* len);

    [DllImport(Lib, EntryPoint = "sendto", SetLastError = true)]
    public static extern nint sendto(int fd, void* buf, nuint len, int flags, void* addr, uint addrlen);

    [DllImport(Lib, EntryPoint = "sendmmsg", SetLastError = true)]
    public static extern int sendmmsg(int fd, MMsgHdr* msgs, uint vlen, int flags);

    [DllImport(Lib, EntryPoint = "recvmmsg", SetLastError = true)]
    public static extern int recvmmsg(int fd, MMsgHdr* msgs, uint vlen, int flags, void* timeout);

    [DllImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static extern int poll(PollFd* fds, nuint nfds, int timeoutMs);

    [DllImport(Lib, EntryPoint = "gettid")]
    public static extern int gettid();

    /// <summary>setpriority(PRIO_PROCESS, tid, nice) changes one thread's nice value on Linux.</summary>
    [DllImport(Lib, EntryPoint = "setpriority", SetLastError = true)]
    public static extern int setpriority(int which, uint who, int prio);

    public const int PRIO_PROCESS = 0;

    [DllImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    public static extern int eventfd(uint initval, int flags);

    /// <summary>Throws an <see cref="IOException"/> naming the failed call and errno.</summary>
    public static IOException Error(string what, int errno) =>
        new($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");

    public static int SetInt(int fd, int level, int name, int value) => setsockopt(fd, level, name, &value, sizeof(int));
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct IoVec
{
    public void* Base;
    public nuint Length;

    public IoVec(void* b, int length) { Base = b; Length = (nuint)length; }
}

/// <summary>struct msghdr (56 bytes on x86_64).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLen;
    public IoVec* Iov;
    public nuint IovLen;
    public void* Control;
    public nuint ControlLen;
    public int Flags;
}

/// <summary>struct mmsghdr (64 bytes on x86_64).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MMsgHdr
{
    public MsgHdr Hdr;
    public uint Len;
}

/// <summary>struct sockaddr_in; port and address in network byte order.</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public struct SockAddrIn
{
    public ushort Family;
    public ushort PortBE;
    public uint AddrBE;
    public ulong Zero;

    /// <summary>Builds the address from host-order values.</summary>
    public static SockAddrIn From(uint addr, int port) => new()
    {
        Family = LibC.AF_INET,
        PortBE = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)port),
        AddrBE = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(addr),
    };

    public readonly uint AddrHostOrder => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(AddrBE);
}

[StructLayout(LayoutKind.Sequential)]
public struct PollFd
{
    public int Fd;
    public short Events;
    public short REvents;
}

/// <summary>struct cmsghdr header (16 bytes); data follows at offset 16.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CmsgHdr
{
    public nuint Len;
    public int Level;
    public int Type;
}

/// <summary>struct sock_filter (classic BPF instruction).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SockFilter
{
    public ushort Code;
    public byte Jt;
    public byte Jf;
    public uint K;

    public SockFilter(ushort code, uint k) { Code = code; Jt = 0; Jf = 0; K = k; }
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct SockFprog
{
    public ushort Len;
    public SockFilter* Filter;
}

/// <summary>struct ifreq (40 bytes): name at 0, the union (flags, ifindex, mtu, qlen) at 16.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public unsafe struct IfReq
{
    [FieldOffset(0)] public fixed byte Name[16];
    [FieldOffset(16)] public short Flags;
    [FieldOffset(16)] public int Value;

    public static IfReq For(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 15 || name.Any(c => c > 0x7e || c <= 0x20 || c == '/'))
            throw new ArgumentException($"interface name '{name}' must be 1-15 printable ASCII characters without '/'", nameof(name));
        var r = new IfReq();
        for (int i = 0; i < name.Length; i++) r.Name[i] = (byte)name[i];
        return r;
    }

    public string GetName()
    {
        fixed (byte* p = Name) return new string((sbyte*)p);
    }
}
