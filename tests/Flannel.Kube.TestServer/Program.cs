using System.Globalization;
using Flannel.Kube.TestServer;
using Microsoft.Extensions.Logging;

// Standalone mode for demos and manual checks: kube-test-server --port N [--address IP] [--state file.yaml] [--kubeconfig out.yaml]
int port = 0;
System.Net.IPAddress? address = null;
string? statePath = null, kubeconfigPath = null, tlsCaPath = null;
var tlsPort = 0;
var bookmarkInterval = TimeSpan.FromSeconds(5);
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--port": port = int.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--address": address = System.Net.IPAddress.Parse(Value()); break;
        case "--state": statePath = Value(); break;
        case "--kubeconfig": kubeconfigPath = Value(); break;
        case "--tls-port": tlsPort = int.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--tls-ca": tlsCaPath = Value(); break;
        case "--bookmark-interval-ms": bookmarkInterval = TimeSpan.FromMilliseconds(int.Parse(Value(), CultureInfo.InvariantCulture)); break;
        case "-h" or "--help":
            Console.WriteLine("usage: kube-test-server [--port N] [--address IP] [--state file.yaml] [--kubeconfig out.yaml] [--bookmark-interval-ms N] [--tls-port N --tls-ca ca.crt]");
            return 0;
        default:
            Console.Error.WriteLine($"kube-test-server: unknown argument {args[i]}");
            return 2;
    }
}

var store = new ResourceStore { BookmarkInterval = bookmarkInterval };
// HTTPS for in-cluster clients (pods run by the minimal kubelet): a serving certificate made for this run; its
// certificate is the service account's ca.crt.
using var tls = tlsPort != 0 ? ServingCertificate.Create(address ?? System.Net.IPAddress.Loopback) : null;
if (tls is not null && tlsCaPath is null) { Console.Error.WriteLine("kube-test-server: --tls-port needs --tls-ca (where the CA certificate goes)"); return 2; }
if (tls is not null) await File.WriteAllTextAsync(tlsCaPath!, tls.ExportCertificatePem());
await using var server = await KubeTestServer.StartAsync(port, store, address: address, tls: tls, tlsPort: tlsPort);
if (statePath is not null) server.PutYaml(await File.ReadAllTextAsync(statePath));
if (kubeconfigPath is not null) server.WriteKubeconfig(kubeconfigPath);
// The first stdout line tells scripts where the server listens.
Console.WriteLine($"listening {server.BaseUri.GetLeftPart(UriPartial.Authority)}");
Console.Out.Flush();

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
await stop.Task;
return 0;
