using System.Net;
using Flannel.Net.Netlink;

namespace Flannel.Net.Backends;

/// <summary>
/// Applies kernel changes one by one and records them for the <see cref="ReconcileReport"/>. A failing change is recorded
/// as an error and the pass goes on with the others (one bad peer must not block the rest); the next pass retries it.
/// </summary>
public sealed class ReconcileRecorder
{
    private readonly List<ReconcileChange> _changes = new();
    private readonly List<string> _errors = new();
    private int _added, _fixed, _removed;

    /// <param name="kind">A <see cref="ReconcileKind"/>.</param>
    /// <param name="subnet">The peer subnet the object serves, if any.</param>
    public void Add(string kind, IPNetwork? subnet, string what, Action apply) => Do(kind, subnet, "add " + what, apply, ref _added);
    public void Fix(string kind, IPNetwork? subnet, string what, Action apply) => Do(kind, subnet, "fix " + what, apply, ref _fixed);
    public void Remove(string kind, IPNetwork? subnet, string what, Action apply) => Do(kind, subnet, "remove " + what, apply, ref _removed);

    private void Do(string kind, IPNetwork? subnet, string description, Action apply, ref int counter)
    {
        try
        {
            apply();
            counter++;
            _changes.Add(new ReconcileChange(kind, subnet, description));
        }
        catch (NetlinkException e)
        {
            _errors.Add(e.Message);
        }
    }

    public void Error(string message) => _errors.Add(message);

    public ReconcileReport ToReport() => new(_added, _fixed, _removed, _changes.ToArray(), _errors.ToArray());
}
