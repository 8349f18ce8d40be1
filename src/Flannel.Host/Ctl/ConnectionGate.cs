namespace Flannel.Host.Ctl;

/// <summary>A counter of open connections with a cap: <see cref="TryEnter"/> fails once <see cref="Max"/> are open.</summary>
public sealed class ConnectionGate(int max)
{
    private int _open;

    public int Max { get; } = max > 0 ? max : throw new ArgumentOutOfRangeException(nameof(max), max, "the cap must be at least 1");

    public int Open => Volatile.Read(ref _open);

    public bool TryEnter()
    {
        while (true)
        {
            var open = Volatile.Read(ref _open);
            if (open >= Max) return false;
            if (Interlocked.CompareExchange(ref _open, open + 1, open) == open) return true;
        }
    }

    /// <summary>Gives back a slot taken by a successful <see cref="TryEnter"/>.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _open) < 0) throw new InvalidOperationException("ConnectionGate.Exit without a matching TryEnter");
    }
}
