using Flannel.Demo;
using Xunit;

namespace Flannel.Demo.Tests;

/// <summary>The demo and the end-to-end tests get the native plugin only through FLANNEL_CNI_PLUGIN; a bad value fails loudly.</summary>
public sealed class CniPluginBinaryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flannel-cni-locate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Unset_names_the_variable_and_the_script_that_publishes_the_plugin(string? value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => CniPluginBinary.Locate(value));
        Assert.StartsWith("FLANNEL_CNI_PLUGIN is not set", e.Message);
        Assert.Contains("scripts/cni-plugin.sh", e.Message);
    }

    [Fact]
    public void A_missing_file_is_refused_with_its_path()
    {
        var path = Path.Combine(_dir, "flannel");
        var e = Assert.Throws<InvalidOperationException>(() => CniPluginBinary.Locate(path));
        Assert.StartsWith($"FLANNEL_CNI_PLUGIN={path}: no such file", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_executable_is_refused()
    {
        var path = Path.Combine(_dir, "flannel");
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal($"FLANNEL_CNI_PLUGIN={path}: not executable", Assert.Throws<InvalidOperationException>(() => CniPluginBinary.Locate(path)).Message);
    }

    [Fact]
    public void A_jit_build_is_refused_also_through_a_symlink()
    {
        var path = Path.Combine(_dir, "flannel");
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(_dir, "flannel.dll"), "");
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, path);
        Assert.Contains("a JIT build", Assert.Throws<InvalidOperationException>(() => CniPluginBinary.Locate(link)).Message);
    }

    [Fact]
    public void An_executable_is_returned_as_a_full_path()
    {
        var path = Path.Combine(_dir, "flannel");
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        Assert.Equal(path, CniPluginBinary.Locate(relative));
    }
}
