using System.Net.Sockets;
using Flannel.Actors.Node;
using Xunit;

namespace Flannel.Actors.Tests.Node;

public sealed class RefusedAssociationTests
{
    [Fact]
    public void The_refusal_text_is_the_platforms_ECONNREFUSED_text()
    {
        Assert.Equal("Connection refused", RefusedAssociation.RefusedText);
    }

    [Fact]
    public void Only_a_refusal_without_an_inner_cause_counts()
    {
        Assert.True(RefusedAssociation.Is(new InvalidOperationException("Connection refused ssl.tcp://flannel@198.18.0.2:8285")));
        // Akka's wrapper for every other connect failure carries the cause inside.
        Assert.False(RefusedAssociation.Is(new InvalidOperationException("Association failed with ssl.tcp://flannel@198.18.0.2:8285",
            new SocketException((int)SocketError.ConnectionRefused))));
        Assert.False(RefusedAssociation.Is(new InvalidOperationException("Connection timed out ssl.tcp://flannel@198.18.0.2:8285")));
        Assert.False(RefusedAssociation.Is(new InvalidOperationException("Connection refused")));
        Assert.False(RefusedAssociation.Is(null));
    }
}
