namespace Flannel.Kube.Tests;

public static class Eventually
{
    /// <summary>Polls until the condition holds or the deadline passes (then fails with the description).</summary>
    public static async Task HoldsAsync(Func<bool> condition, string description, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting until {description}");
            await Task.Delay(25);
        }
    }
}
