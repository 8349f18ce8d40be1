using System.Runtime.InteropServices;

namespace Flannel.Net.Netlink;

/// <summary>
/// A failed netlink operation: carries the errno and says what was being done, e.g.
/// "netlink: add route 10.244.2.0/24 via 10.244.2.0 dev flannel.1: File exists (EEXIST)".
/// </summary>
public sealed class NetlinkException : IOException
{
    public NetlinkException(string operation, int errno, string? kernelMessage = null)
        : base(Format(operation, errno, kernelMessage))
    {
        Operation = operation;
        Errno = errno;
        KernelMessage = kernelMessage;
        HResult = errno;
    }

    public string Operation { get; }
    public int Errno { get; }

    /// <summary>The kernel's extended-ack explanation, when it gave one.</summary>
    public string? KernelMessage { get; }

    public string ErrnoName => Errnos.Name(Errno);

    private static string Format(string operation, int errno, string? kernelMessage)
    {
        var text = $"netlink: {operation}: {Marshal.GetPInvokeErrorMessage(errno)} ({Errnos.Name(errno)})";
        return string.IsNullOrEmpty(kernelMessage) ? text : $"{text}: {kernelMessage}";
    }
}

public static class Errnos
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22,
        EOPNOTSUPP = 95, EADDRNOTAVAIL = 99, ENETUNREACH = 101, ENOBUFS = 105;

    private static readonly Dictionary<int, string> Names = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [5] = "EIO", [6] = "ENXIO", [7] = "E2BIG",
        [9] = "EBADF", [11] = "EAGAIN", [12] = "ENOMEM", [13] = "EACCES", [14] = "EFAULT", [16] = "EBUSY",
        [17] = "EEXIST", [19] = "ENODEV", [22] = "EINVAL", [23] = "ENFILE", [24] = "EMFILE", [28] = "ENOSPC",
        [34] = "ERANGE", [36] = "ENAMETOOLONG", [40] = "ELOOP", [90] = "EMSGSIZE", [93] = "EPROTONOSUPPORT",
        [95] = "EOPNOTSUPP", [97] = "EAFNOSUPPORT", [98] = "EADDRINUSE", [99] = "EADDRNOTAVAIL", [100] = "ENETDOWN",
        [101] = "ENETUNREACH", [105] = "ENOBUFS", [107] = "ENOTCONN", [113] = "EHOSTUNREACH",
    };

    public static string Name(int errno) => Names.TryGetValue(errno, out var n) ? n : $"errno {errno}";
}
