using System.Collections;
using System.Text.Json.Nodes;
using Flannel.Host.Options;
using Xunit;

namespace Flannel.Host.Tests.Options;

public sealed class CniInvocationGuardTests
{
    [Fact]
    public void A_CNI_invocation_gets_a_CNI_error_result_naming_the_plugin_to_install()
    {
        var refusal = CniInvocationGuard.Refusal(new Hashtable { ["CNI_COMMAND"] = "ADD", ["CNI_CONTAINERID"] = "c1" });

        var json = JsonNode.Parse(Assert.IsType<string>(refusal))!;
        Assert.Equal(4, json["code"]!.GetValue<int>());
        Assert.Equal("1.0.0", json["cniVersion"]!.GetValue<string>());
        Assert.Contains("CNI_COMMAND=ADD", json["msg"]!.GetValue<string>());
        Assert.Contains("/opt/cni/bin/flannel", json["details"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Without_CNI_COMMAND_the_agent_starts(string? value)
    {
        var env = new Hashtable { ["PATH"] = "/usr/bin" };
        if (value is not null) env["CNI_COMMAND"] = value;
        Assert.Null(CniInvocationGuard.Refusal(env));
    }
}
