namespace Flannel.Host.Hosting;

/// <summary>
/// The GC settings in effect, as the runtime reports them (GC.GetConfigurationVariables), for the agent's "starting" line:
/// the footprint settings of Flannel.Host.csproj (region size, gen0 budget, workstation non-concurrent GC) are runtime
/// knobs that a form or an operator's DOTNET_* variable can change, so the agent says which ones it runs with.
/// </summary>
public static class GcSettings
{
    public static string Describe() => Describe(GC.GetConfigurationVariables());

    public static string Describe(IReadOnlyDictionary<string, object> vars)
    {
        string Get(string key) => vars.TryGetValue(key, out var v) ? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "?" : "?";
        string KiB(string key) => long.TryParse(Get(key), out var b) ? b == 0 ? "default" : $"{b / 1024} KiB" : "?";
        return $"server {Get("ServerGC")}, concurrent {Get("ConcurrentGC")}, region size {KiB("GCRegionSize")}, gen0 budget at most {KiB("GCGen0MaxBudget")}";
    }
}
