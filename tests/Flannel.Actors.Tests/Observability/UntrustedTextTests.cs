using Flannel.Actors.Observability;
using Xunit;

namespace Flannel.Actors.Tests.Observability;

public sealed class UntrustedTextTests
{
    [Fact]
    public void Control_characters_cannot_forge_log_lines_and_long_text_is_clipped()
    {
        Assert.Equal("CN=x?warn: forged", UntrustedText.Clip("CN=x\nwarn: forged"));
        Assert.Equal("a?b?c", UntrustedText.Clip("a\rb\u001bc"));
        Assert.Equal(new string('x', 10) + "...", UntrustedText.Clip(new string('x', 50), 10));
        Assert.Equal("", UntrustedText.Clip(null));
    }
}
