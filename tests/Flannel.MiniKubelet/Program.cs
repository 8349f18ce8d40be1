using System.Globalization;
using Flannel.Actors.Kubernetes;
using Flannel.MiniKubelet;

// mini-kubelet --node NAME --netns NS --node-ip IP --host-root DIR --state-dir DIR --kubeconfig FILE
//              --service-host IP --service-port N --service-ca FILE [--mount-ns /proc/PID/ns/mnt]
// A minimal kubelet for DaemonSets on one namespace host (see DaemonSetKubelet). SIGTERM/SIGINT stop its pods gracefully.
var values = new Dictionary<string, string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] is "-h" or "--help")
    {
        Console.WriteLine("usage: mini-kubelet --node NAME --netns NS --node-ip IP --host-root DIR --state-dir DIR --kubeconfig FILE " +
                          "--service-host IP --service-port N --service-ca FILE [--mount-ns /proc/PID/ns/mnt]");
        return 0;
    }
    if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"mini-kubelet: unexpected argument {args[i]} (every option takes a value)");
        return 2;
    }
    values[args[i][2..]] = args[++i];
}
string Need(string key) => values.TryGetValue(key, out var v) ? v
    : throw new ArgumentException($"mini-kubelet: --{key} is required");
KubeletOptions options;
try
{
    options = new KubeletOptions(Need("node"), Need("netns"), Need("node-ip"), Need("host-root"), Need("state-dir"),
        Need("service-host"), int.Parse(Need("service-port"), CultureInfo.InvariantCulture), Need("service-ca"));
    Need("kubeconfig");
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
// Started inside a network namespace by `ip netns exec`, which also gives it a private /sys: podman runs in the
// starter's mount namespace instead (see Podman.MountNamespace).
if (values.TryGetValue("mount-ns", out var mountNs)) Podman.MountNamespace = mountNs;
if (Podman.CannotRunContainers() is { } why)
{
    Console.Error.WriteLine($"mini-kubelet: cannot run containers: {why}");
    return 1;
}
using var cts = new CancellationTokenSource();
using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
using var intr = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; cts.Cancel(); });
var client = KubeClientFactory.Create(null, values["kubeconfig"]);
Console.WriteLine($"mini-kubelet {options.NodeName}: watching DaemonSets");
Console.Out.Flush();
await new DaemonSetKubelet(client, options, Console.Out).RunAsync(cts.Token);
Console.WriteLine($"mini-kubelet {options.NodeName}: stopped");
return 0;
