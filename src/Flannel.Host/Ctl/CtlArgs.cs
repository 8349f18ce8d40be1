using System.Net;
using Flannel.Actors.Cmd;

namespace Flannel.Host.Ctl;

/// <summary>
/// The parsed `flanneld ctl` command line: [--host H:P] [--json] [--yes] [--force] [--system] [--timeout S]
/// &lt;palette&gt; [command] [args]. Options may appear anywhere; a palette without a command gets its default one.
/// </summary>
public sealed record CtlArgs(EndPoint Host, string HostText, bool Json, TimeSpan Timeout, CmdRequest Request, bool Help)
{
    public const string DefaultHost = "127.0.0.1:9110";

    private static readonly Dictionary<string, string> DefaultCommands = new(StringComparer.Ordinal)
    {
        [CmdPalettes.Cluster] = "show",
        [CmdPalettes.Lease] = "list",
        [CmdPalettes.Routes] = "show",
        [CmdPalettes.Peers] = "show",
        [CmdPalettes.Config] = "show",
        [CmdPalettes.Backend] = "show",
        [CmdPalettes.Actor] = "hierarchy",
        [CmdPalettes.Log] = "level",
    };

    private static readonly HashSet<string> Switches = ["yes", "force", "system"];

    public static string Usage => """
        usage: flanneld ctl [--host HOST:PORT] [--json] [--yes] [--force] [--timeout SECONDS] <palette> [command] [args]

          cluster show                    members, status, roles, reachability, leader
          cluster leave [address]         this node (or address) leaves the cluster gracefully
          cluster down <address>          mark a member down
          cluster down-unreachable        mark every unreachable member down
          cluster join <address>          join the cluster through a seed (host:port or akka.ssl.tcp://flannel@host:port)
          cluster tail                    stream membership events until interrupted
          lease list                      subnet, node, public IP, backend, expiry
          lease show <subnet|node>        one node's lease
          lease release <subnet>          free a subnet (asks unless --yes; a live node's lease needs --force)
          routes                          desired vs actual kernel state per peer, drift marked
          peers                           per peer: packets, bytes, drops by reason (udp); FDB/neighbour (vxlan)
          config show                     the net-conf in force, its version and source
          backend show                    the running backend
          actor hierarchy [--system]      the local actor tree
          log level [level]               show or set the log level (trace, debug, information, warning, error)

        --host defaults to 127.0.0.1:9110 (the agent's --cmd-port); --json prints machine-readable output.
        exit codes: 0 ok, 1 the agent refused or failed, 2 usage, 3 no command host, 4 not confirmed.
        """;

    /// <summary>Parses the arguments after `ctl`; throws <see cref="FormatException"/> naming the bad argument.</summary>
    public static CtlArgs Parse(IReadOnlyList<string> args)
    {
        var hostText = Environment.GetEnvironmentVariable("FLANNELD_CTL_HOST") is { Length: > 0 } env ? env : DefaultHost;
        var json = false;
        var help = false;
        var timeout = TimeSpan.FromSeconds(15);
        var switches = new HashSet<string>(StringComparer.Ordinal);
        var positional = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string Value()
            {
                if (a.Contains('=')) return a[(a.IndexOf('=') + 1)..];
                if (i + 1 >= args.Count) throw new FormatException($"{a} needs a value");
                return args[++i];
            }
            var name = a.Contains('=') ? a[..a.IndexOf('=')] : a;
            switch (name)
            {
                case "--host": hostText = Value(); break;
                case "--json": json = true; break;
                case "--yes" or "-y": switches.Add("yes"); break;
                case "--force": switches.Add("force"); break;
                case "--system": switches.Add("system"); break;
                case "--help" or "-h" or "help": help = true; break;
                case "--timeout":
                    var t = Value();
                    if (!double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
                        throw new FormatException($"--timeout '{t}' is not a positive number of seconds");
                    timeout = TimeSpan.FromSeconds(seconds);
                    break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal) && Switches.Contains(a[2..])) switches.Add(a[2..]);
                    else if (a.StartsWith('-') && a.Length > 1 && !char.IsDigit(a[1])) throw new FormatException($"unknown option {a}");
                    else positional.Add(a);
                    break;
            }
        }
        var host = ParseHost(hostText);
        if (help || positional.Count == 0)
            return new CtlArgs(host, hostText, json, timeout, CmdRequest.Of("", ""), Help: true);
        var palette = positional[0];
        if (!DefaultCommands.TryGetValue(palette, out var defaultCommand))
            throw new FormatException($"unknown palette '{palette}'; palettes: {string.Join(", ", DefaultCommands.Keys)}");
        // `ctl routes` and `ctl peers` have one command; `ctl log level debug` keeps "level" as the command.
        var hasCommand = positional.Count > 1 && (palette is not (CmdPalettes.Routes or CmdPalettes.Peers) || positional[1] == "show");
        var command = hasCommand ? positional[1] : defaultCommand;
        var rest = positional.Skip(hasCommand ? 2 : 1).ToList();
        return new CtlArgs(host, hostText, json, timeout, new CmdRequest(palette, command, rest, switches), Help: false);
    }

    /// <summary>host:port, [v6]:port, or a bare port (on 127.0.0.1).</summary>
    public static EndPoint ParseHost(string text)
    {
        if (int.TryParse(text, out var bare)) return new IPEndPoint(IPAddress.Loopback, Port(bare, text));
        if (IPEndPoint.TryParse(text, out var ip) && ip.Port != 0) return ip;
        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), out var port))
            return new DnsEndPoint(text[..colon], Port(port, text));
        throw new FormatException($"--host '{text}' is not host:port");
    }

    private static int Port(int port, string text) =>
        port is > 0 and <= 65535 ? port : throw new FormatException($"--host '{text}': port {port} is not 1-65535");
}
