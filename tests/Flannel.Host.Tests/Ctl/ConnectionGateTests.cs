using Flannel.Host.Ctl;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

public sealed class ConnectionGateTests
{
    [Fact]
    public void Admits_up_to_the_cap_and_a_freed_slot_admits_again()
    {
        var gate = new ConnectionGate(2);

        Assert.True(gate.TryEnter());
        Assert.True(gate.TryEnter());
        Assert.False(gate.TryEnter());
        Assert.Equal(2, gate.Open);

        gate.Exit();
        Assert.Equal(1, gate.Open);
        Assert.True(gate.TryEnter());
        Assert.False(gate.TryEnter());
    }

    [Fact]
    public void Racing_callers_never_get_more_than_the_cap()
    {
        var gate = new ConnectionGate(16);
        var admitted = 0;

        Parallel.For(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            if (gate.TryEnter()) Interlocked.Increment(ref admitted);
        });

        Assert.Equal(16, admitted);
        Assert.Equal(16, gate.Open);
    }

    [Fact]
    public void An_exit_without_an_enter_and_a_cap_below_one_are_bugs()
    {
        Assert.Throws<InvalidOperationException>(() => new ConnectionGate(1).Exit());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionGate(0));
    }
}
