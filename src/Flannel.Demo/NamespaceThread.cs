using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Flannel.Demo;

/// <summary>
/// A dedicated thread that entered a network namespace with setns(2) (only that thread is in the namespace). Sockets and
/// devices opened through <see cref="Run{T}"/> (netlink clients, backends, TUN, HTTP connections) belong to that
/// namespace and can then be used from any thread; exceptions propagate to the caller. The demo uses it to reach agents
/// inside host namespaces, the tests to drive netlink and backends there.
/// </summary>
public sealed partial class NamespaceThread : IDisposable
{
    private const int CLONE_NEWNET = 0x40000000;
    private const int O_RDONLY_CLOEXEC = 0x80000;
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;

    public string Namespace { get; }

    public NamespaceThread(string namespaceName)
    {
        Namespace = namespaceName;
        var entered = new TaskCompletionSource();
        _thread = new Thread(() =>
        {
            try
            {
                Enter(namespaceName);
                entered.SetResult();
            }
            catch (Exception e)
            {
                entered.SetException(e);
                return;
            }
            foreach (var item in _work.GetConsumingEnumerable()) item();
        }) { IsBackground = true, Name = $"netns-{namespaceName}" };
        _thread.Start();
        entered.Task.GetAwaiter().GetResult();
    }

    public NamespaceThread(Netns ns) : this(ns.Name) { }

    public T Run<T>(Func<T> func)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try { done.SetResult(func()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    public void Run(Action action) => Run(() => { action(); return 0; });

    private static void Enter(string name)
    {
        var path = $"/var/run/netns/{name}";
        var fd = open(path, O_RDONLY_CLOEXEC);
        if (fd < 0) throw new IOException($"open {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        try
        {
            if (setns(fd, CLONE_NEWNET) != 0)
                throw new IOException($"setns {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        finally
        {
            close(fd);
        }
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(10));
        _work.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
