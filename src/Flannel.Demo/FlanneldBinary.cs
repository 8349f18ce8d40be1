namespace Flannel.Demo;

/// <summary>
/// Which flanneld the end-to-end tests and the benches run: the one built beside them (the `dotnet build` output), or
/// the build FLANNELD names, e.g. the shipped NativeAOT form (deploy/publish-flanneld.sh OUTDIR, then OUTDIR/flanneld)
/// so the same tests run against what the image ships. The one place that variable is read for that.
/// </summary>
public static class FlanneldBinary
{
    public const string Variable = "FLANNELD";

    public static string Locate()
    {
        var path = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(path)) return Path.Combine(AppContext.BaseDirectory, "flanneld");
        if (!File.Exists(path)) throw new InvalidOperationException($"{Variable}={path}: no such file (it names the flanneld to run)");
        return Path.GetFullPath(path);
    }
}
