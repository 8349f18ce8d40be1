using System.Text.Json.Nodes;
using Flannel.Kube.TestServer;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>The test server's patch and selector semantics, checked without HTTP.</summary>
public sealed class PatchAndSelectorTests
{
    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void Strategic_patch_merges_keyed_lists_honours_delete_directives_and_ignores_ordering_hints()
    {
        var node = Obj("""{"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"MemoryPressure","status":"False"}]},"spec":{"taints":[{"key":"a"}]}}""");
        var patch = Obj("""
            {"$setElementOrder/conditions":[{"type":"Ready"}],
             "status":{"conditions":[{"type":"Ready","status":"False"},{"type":"MemoryPressure","$patch":"delete"},{"type":"NetworkUnavailable","status":"False"}]},
             "spec":{"taints":[{"key":"b"}]}}
            """);
        var result = Patches.Apply(Patches.StrategicMergePatch, node, patch);
        Assert.Equal("""[{"type":"Ready","status":"False"},{"type":"NetworkUnavailable","status":"False"}]""", result["status"]!["conditions"]!.ToJsonString());
        // Lists without a merge key are replaced, as for node taints.
        Assert.Equal("""[{"key":"b"}]""", result["spec"]!["taints"]!.ToJsonString());
        Assert.False(result.ContainsKey("$setElementOrder/conditions"));
    }

    [Fact]
    public void Merge_patch_replaces_lists_and_null_deletes()
    {
        var node = Obj("""{"metadata":{"annotations":{"a":"1","b":"2"}},"status":{"conditions":[{"type":"Ready"}]}}""");
        var result = Patches.Apply(Patches.MergePatch, node, Obj("""{"metadata":{"annotations":{"a":null}},"status":{"conditions":[{"type":"X"}]}}"""));
        Assert.Equal("""{"b":"2"}""", result["metadata"]!["annotations"]!.ToJsonString());
        Assert.Equal("""[{"type":"X"}]""", result["status"]!["conditions"]!.ToJsonString());
    }

    [Fact]
    public void Json_patch_adds_replaces_removes_and_tests()
    {
        var cm = Obj("""{"data":{"a":"1"},"list":[1,2]}""");
        var ops = JsonNode.Parse("""[{"op":"add","path":"/data/b~1c","value":"2"},{"op":"replace","path":"/data/a","value":"9"},{"op":"remove","path":"/list/0"},{"op":"test","path":"/list/0","value":2}]""")!;
        var result = Patches.Apply(Patches.JsonPatch, cm, ops);
        Assert.Equal("""{"data":{"a":"9","b/c":"2"},"list":[2]}""", result.ToJsonString());
        var failed = Assert.Throws<ApiException>(() => Patches.Apply(Patches.JsonPatch, cm, JsonNode.Parse("""[{"op":"replace","path":"/data/zz","value":"1"}]""")!));
        Assert.Equal(400, failed.Code);
    }

    [Fact]
    public void Unknown_patch_types_are_415()
    {
        Assert.Equal(415, Assert.Throws<ApiException>(() => Patches.Apply("application/apply-patch+yaml", Obj("{}"), Obj("{}"))).Code);
    }

    [Theory]
    [InlineData("app=flannel", true)]
    [InlineData("app==flannel,tier=node", true)]
    [InlineData("app!=flannel", false)]
    [InlineData("app in (x, flannel)", true)]
    [InlineData("app notin (flannel)", false)]
    [InlineData("tier,!missing", true)]
    [InlineData("missing", false)]
    [InlineData("", true)]
    public void Label_selectors(string selector, bool matches)
    {
        var pod = Obj("""{"metadata":{"labels":{"app":"flannel","tier":"node"}}}""");
        Assert.Equal(matches, LabelSelector.Parse(selector).Matches(pod));
    }

    [Theory]
    [InlineData("metadata.name=p1", true)]
    [InlineData("spec.nodeName=node-a,metadata.namespace=kube-flannel", true)]
    [InlineData("spec.nodeName!=node-a", false)]
    [InlineData("status.phase=Running", false)]
    public void Field_selectors(string selector, bool matches)
    {
        var pod = Obj("""{"metadata":{"name":"p1","namespace":"kube-flannel"},"spec":{"nodeName":"node-a"},"status":{"phase":"Pending"}}""");
        Assert.Equal(matches, FieldSelector.Parse(selector).Matches(pod));
    }

    [Fact]
    public void A_field_selector_on_an_unsupported_field_is_a_bad_request_naming_it()
    {
        var e = Assert.Throws<ApiException>(() => FieldSelector.Parse("spec.hostname=x"));
        Assert.Equal(400, e.Code);
        Assert.Contains("spec.hostname", e.Message);
    }
}
