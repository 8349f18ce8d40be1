namespace Flannel.Testing;

/// <summary>
/// Waits for a condition with a deadline instead of sleeping a fixed time: tests stay fast on a quiet machine and
/// still pass on a loaded one, and a condition that never holds fails with what was awaited. The one wait helper of the
/// tests, the demo harness and the benches; <c>what</c> as a function describes the last state seen (read on failure).
/// </summary>
public static class Poll
{
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, int intervalMs = 50) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, () => what, intervalMs);

    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, int intervalMs = 50) =>
        UntilAsync(condition, timeout, () => what, intervalMs);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> what, int intervalMs = 50,
        CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {timeout}: {what()}");
            await Task.Delay(intervalMs, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value, and returns it.</summary>
    public static Task<T> ForAsync<T>(Func<T?> probe, TimeSpan timeout, string what, int intervalMs = 50) where T : class =>
        ForAsync(() => Task.FromResult(probe()), timeout, what, intervalMs);

    /// <summary>Polls <paramref name="probe"/> until it returns a value, and returns it.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what, int intervalMs = 50) where T : class
    {
        T? value = null;
        await UntilAsync(async () => (value = await probe().ConfigureAwait(false)) is not null, timeout, () => what, intervalMs)
            .ConfigureAwait(false);
        return value!;
    }

    /// <summary>The blocking form, for code on its own thread (the demo's steps, benches).</summary>
    public static void Until(Func<bool> condition, TimeSpan timeout, Func<string> what, int intervalMs = 50)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {timeout}: {what()}");
            Thread.Sleep(intervalMs);
        }
    }
}
