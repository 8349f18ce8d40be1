namespace Flannel.Testing;

/// <summary>
/// Waits for a condition with a deadline instead of sleeping a fixed time: tests stay fast on a quiet machine and
/// still pass on a loaded one, and a condition that never holds fails with what was awaited.
/// </summary>
public static class Poll
{
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, int intervalMs = 50) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, intervalMs);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, int intervalMs = 50)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {timeout}: {what}");
            await Task.Delay(intervalMs);
        }
    }
}
