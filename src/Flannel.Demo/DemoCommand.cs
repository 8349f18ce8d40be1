using System.Globalization;
using Flannel.Net.Config;

namespace Flannel.Demo;

/// <summary>
/// `flannel-demo [--backend udp|vxlan|host-gw] [--hosts N]` (what ./demo.sh runs): a local flannel cluster in network
/// namespaces, agents from the flanneld built beside this executable, pods made by the CNI plugin, a ping matrix and one throughput figure; cleans up on exit, Ctrl-C and failure. Exit 0 only when
/// every pod reached every other pod.
/// </summary>
public static class DemoCommand
{
    public static int Run(string[] args)
    {
        var backend = BackendConfig.Udp;
        var hosts = 3;
        string? logs = null;
        var kube = false;
        string? kubeServer = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--backend" when i + 1 < args.Length:
                    backend = args[++i].ToLowerInvariant();
                    break;
                case "--hosts" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 2 and <= 20:
                    hosts = n;
                    i++;
                    break;
                case "--logs" when i + 1 < args.Length:
                    logs = args[++i];
                    break;
                case "--kube":
                    kube = true;
                    break;
                case "--kube-test-server" when i + 1 < args.Length:
                    kubeServer = args[++i];
                    break;
                case "-h" or "--help":
                    Console.WriteLine("usage: flannel-demo [--backend udp|vxlan|host-gw] [--hosts 2..20] [--logs DIR] [--kube --kube-test-server PATH]");
                    return 0;
                default:
                    Console.Error.WriteLine($"demo: unknown argument \"{args[i]}\" (usage: flannel-demo [--backend udp|vxlan|host-gw] [--hosts 2..20] [--logs DIR] [--kube --kube-test-server PATH])");
                    return 2;
            }
        }
        if (!BackendConfig.SupportedTypes.Contains(backend))
        {
            Console.Error.WriteLine($"demo: --backend \"{backend}\" is not one of {string.Join(", ", BackendConfig.SupportedTypes)}");
            return 2;
        }
        // The project reference to Flannel.Host puts flanneld (apphost, runtimeconfig, hocon/) into this output directory.
        var flanneld = Path.Combine(AppContext.BaseDirectory, "flanneld");
        if (!File.Exists(flanneld))
        {
            Console.Error.WriteLine($"demo: no flanneld beside the demo ({flanneld}): build src/Flannel.Demo");
            return 2;
        }
        var options = new TopologyOptions("fldemo", flanneld) { Backend = backend, Hosts = hosts, KeepLogsIn = logs };
        if (kube)
        {
            // demo.sh builds the test API server; its path comes from --kube-test-server or FLANNEL_KUBE_TEST_SERVER.
            var server = kubeServer ?? Environment.GetEnvironmentVariable("FLANNEL_KUBE_TEST_SERVER");
            if (string.IsNullOrEmpty(server))
            {
                Console.Error.WriteLine("demo: --kube needs the test API server: --kube-test-server PATH (demo.sh passes it)");
                return 2;
            }
            return new KubeDemoRunner(options with { Prefix = "fldemok" }, server, Console.Out).Run();
        }
        return new DemoRunner(options, Console.Out).Run();
    }
}
