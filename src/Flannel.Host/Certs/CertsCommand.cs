using System.CommandLine;
using System.Globalization;
using System.Net;
using Flannel.Host.Security;

namespace Flannel.Host.Certs;

/// <summary>
/// `flanneld certs`: the cluster credential without openssl.
/// <c>flanneld certs ca --out DIR [--days N] [--name CN] [--force]</c> writes ca.crt + ca.key;
/// <c>flanneld certs node --ca-dir DIR --out DIR [--name NAME] [--ip IP ...] [--dns NAME ...] [--days N] [--force]</c>
/// writes tls.crt + tls.key (and a copy of ca.crt), the three files the agent's --cluster-tls-* flags and the Secret
/// kube-flannel-cluster-tls take. Exit codes: 0 written, 1 failed (files, CA), 2 usage.
/// </summary>
public static class CertsCommand
{
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var result = 0;
        var root = new RootCommand("flanneld certs: create the cluster CA and node certificates for --cluster-tls-*");

        var caOut = Required("--out", "Directory for ca.crt and ca.key.");
        var caDays = Days(ClusterCertificates.DefaultCaValidity);
        var caName = new Option<string>("--name") { Description = "Common name of the CA.", DefaultValueFactory = _ => "flannel cluster CA" };
        var caForce = Force();
        var ca = new Command("ca", "Create a cluster CA (ECDSA P-256): ca.crt, ca.key (mode 0600). Keep ca.key off the nodes.")
        {
            caOut, caDays, caName, caForce,
        };
        ca.SetAction(p => result = Guard(stderr, () =>
        {
            var dir = p.GetValue(caOut)!;
            using var cert = ClusterCertificates.CreateCa(p.GetValue(caName)!, Validity(p.GetValue(caDays)));
            CredentialFiles.WriteCa(dir, cert, p.GetValue(caForce));
            stdout.WriteLine($"certs: wrote {Path.Combine(dir, CredentialFiles.CaCert)} and {Path.Combine(dir, CredentialFiles.CaKey)} " +
                             $"(\"{cert.Subject}\", valid until {cert.NotAfter.ToUniversalTime():yyyy-MM-dd})");
        }));

        var caDir = Required("--ca-dir", "Directory holding ca.crt and ca.key (from `flanneld certs ca`).");
        var nodeOut = Required("--out", "Directory for tls.crt, tls.key and a copy of ca.crt.");
        var nodeName = new Option<string>("--name") { Description = "Common name of the node (default: this host's name)." };
        var ips = new Option<string[]>("--ip") { Description = "IP address SAN (repeatable).", AllowMultipleArgumentsPerToken = false };
        var dns = new Option<string[]>("--dns") { Description = "DNS name SAN (repeatable).", AllowMultipleArgumentsPerToken = false };
        var nodeDays = Days(ClusterCertificates.DefaultNodeValidity);
        var nodeForce = Force();
        var node = new Command("node", "Create a node certificate signed by the cluster CA (EKU serverAuth+clientAuth): tls.crt, tls.key (mode 0600).")
        {
            caDir, nodeOut, nodeName, ips, dns, nodeDays, nodeForce,
        };
        node.SetAction(p => result = Guard(stderr, () =>
        {
            var addresses = (p.GetValue(ips) ?? []).Select(s => IPAddress.TryParse(s, out var a) ? a : throw new UsageException($"--ip: \"{s}\" is not an IP address")).ToList();
            var dnsNames = (p.GetValue(dns) ?? []).Select(s => Uri.CheckHostName(s) == UriHostNameType.Dns ? s : throw new UsageException($"--dns: \"{s}\" is not a DNS name")).ToList();
            var name = p.GetValue(nodeName) is { Length: > 0 } n ? n : Environment.MachineName;
            var dir = p.GetValue(caDir)!;
            using var authority = CredentialFiles.ReadCa(dir);
            using var cert = ClusterCertificates.CreateNode(authority, name, addresses, dnsNames, Validity(p.GetValue(nodeDays)));
            var outDir = p.GetValue(nodeOut)!;
            var sameDir = Path.GetFullPath(outDir).TrimEnd('/') == Path.GetFullPath(dir).TrimEnd('/');
            // The CA file as given (it may be a bundle of old + new CA during a rotation), so the node trusts the same set.
            var caPem = sameDir ? null : File.ReadAllText(Path.Combine(dir, CredentialFiles.CaCert));
            CredentialFiles.WriteNode(outDir, cert, caPem, p.GetValue(nodeForce));
            stdout.WriteLine($"certs: wrote {Path.Combine(outDir, CredentialFiles.NodeCert)} and {Path.Combine(outDir, CredentialFiles.NodeKey)}" +
                             (sameDir ? "" : $" and {Path.Combine(outDir, CredentialFiles.CaCert)}") +
                             $" (\"{cert.Subject}\", {addresses.Count} IP and {dnsNames.Count} DNS SANs, valid until {cert.NotAfter.ToUniversalTime():yyyy-MM-dd})");
        }));

        root.Subcommands.Add(ca);
        root.Subcommands.Add(node);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"certs: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (flanneld certs --help)");
            return 2;
        }
        var code = parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return code != 0 ? code : result;
    }

    private static int Guard(TextWriter stderr, Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"certs: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ClusterTlsException
                                       or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            stderr.WriteLine($"certs: {e.Message}");
            return 1;
        }
    }

    private static TimeSpan Validity(int days) =>
        days is >= 1 and <= 36500 ? TimeSpan.FromDays(days) : throw new UsageException($"--days: {days.ToString(CultureInfo.InvariantCulture)} is not 1..36500");

    private static Option<string> Required(string name, string description) =>
        new(name) { Description = description, Required = true, Arity = ArgumentArity.ExactlyOne };

    private static Option<int> Days(TimeSpan defaultValidity) => new("--days")
    {
        Description = "Validity in days.",
        DefaultValueFactory = _ => (int)defaultValidity.TotalDays,
    };

    private static Option<bool> Force() => new("--force") { Description = "Replace existing files." };

    private sealed class UsageException(string message) : Exception(message);
}
