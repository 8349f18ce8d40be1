namespace Flannel.Demo;

/// <summary>
/// Where the native `flannel` CNI plugin (src/Flannel.Cni, NativeAOT) is: the one place the demo topology and the
/// end-to-end tests learn it. `dotnet build` does not AOT-compile, so scripts/cni-plugin.sh publishes it and test.sh,
/// demo.sh and bench/cni.sh export its path as FLANNEL_CNI_PLUGIN. There is no fallback to a JIT build: a run that
/// lacks the native plugin fails here, naming the variable.
/// </summary>
public static class CniPluginBinary
{
    public const string Variable = "FLANNEL_CNI_PLUGIN";

    public static string Locate() => Locate(Environment.GetEnvironmentVariable(Variable));

    public static string Locate(string? path)
    {
        const string how = "publish it with scripts/cni-plugin.sh, which prints its path: export " + Variable + "=\"$(scripts/cni-plugin.sh)\"";
        if (string.IsNullOrEmpty(path))
            throw new InvalidOperationException($"{Variable} is not set: it names the native `flannel` CNI plugin; {how}");
        if (!File.Exists(path))
            throw new InvalidOperationException($"{Variable}={path}: no such file; {how}");
        if ((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) == 0)
            throw new InvalidOperationException($"{Variable}={path}: not executable");
        // A JIT build's apphost is also called `flannel`, with flannel.dll beside it; the native binary has none.
        var real = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
        if (File.Exists(Path.ChangeExtension(real, ".dll")))
            throw new InvalidOperationException($"{Variable}={path}: a JIT build (flannel.dll beside it), not the native plugin; {how}");
        return Path.GetFullPath(path);
    }
}
