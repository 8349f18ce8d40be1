using Flannel.Demo;

namespace Flannel.Testing;

/// <summary>A <see cref="NamespaceThread"/> in a test's own <see cref="NetNs"/>.</summary>
public sealed class NetNsThread(string namespaceName) : IDisposable
{
    private readonly NamespaceThread _thread = new(namespaceName);

    public NetNsThread(NetNs ns) : this(ns.Name) { }

    public string Namespace => _thread.Namespace;

    public T Run<T>(Func<T> func) => _thread.Run(func);

    public void Run(Action action) => _thread.Run(action);

    public void Dispose() => _thread.Dispose();
}
