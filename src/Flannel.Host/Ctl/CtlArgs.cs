using System.Net;
using System.Net.Sockets;
using Flannel.Actors.Cmd;

namespace Flannel.Host.Ctl;

/// <summary>
/// The parsed `flanneld ctl` command line: [--socket PATH | --host H:P] [--json] [--yes] [--force] [--system]
/// [--timeout S] &lt;palette&gt; [command] [args]. Options may appear anywhere; a palette without a command gets its
/// default one. <see cref="Host"/> is where the command host listens: the agent's Unix socket (default), or loopback TCP
/// with --host; <see cref="HostText"/> is how the operator named it.
/// </summary>
public sealed record CtlArgs(EndPoint Host, string HostText, bool Json, TimeSpan Timeout, CmdRequest Request, bool Help)
{
    public const string DefaultSocket = UnixCommandSocket.DefaultPath;

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
        [CmdPalettes.Status] = "show",
    };

    private static readonly HashSet<string> Switches = ["yes", "force", "system"];

    public static string Usage => """
        usage: flanneld ctl [--socket PATH | --host HOST:PORT] [--json] [--yes] [--force] [--timeout SECONDS] <palette> [command] [args]

          status                          the agent: readiness, lease, lease table, members, reconcile counters
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
          config show                     the net-conf in force, its cluster version (0: own file, cluster not seen yet) and source
          backend show                    the running backend
          actor hierarchy [--system]      the local actor tree
          log level [level]               show or set the log level (trace, debug, information, warning, error)

        --socket defaults to /run/flannel/flanneld.sock (the agent's --cmd-socket; root only); --host HOST:PORT talks to
        the agent's loopback TCP port instead (--cmd-port, off unless set). --json prints machine-readable output.
        exit codes: 0 ok, 1 the agent refused or failed, 2 usage, 3 no command host, 4 not confirmed.
        """;

    /// <summary>Parses the arguments after `ctl`; throws <see cref="FormatException"/> naming the bad argument.</summary>
    public static CtlArgs Parse(IReadOnlyList<string> args)
    {
        string? socketText = null, hostText = null;
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
                case "--socket": socketText = Value(); break;
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
        if (socketText is not null && hostText is not null)
            throw new FormatException("--socket and --host name two command hosts; give one");
        // Flags first, then the environment (FLANNELD_CTL_SOCKET, FLANNELD_CTL_HOST), then the default socket.
        if (socketText is null && hostText is null)
        {
            socketText = Env("FLANNELD_CTL_SOCKET");
            hostText = socketText is null ? Env("FLANNELD_CTL_HOST") : null;
        }
        var (host, shown) = hostText is not null ? (ParseHost(hostText), hostText) : ParseSocket(socketText ?? DefaultSocket);
        if (help || positional.Count == 0)
            return new CtlArgs(host, shown, json, timeout, CmdRequest.Of("", ""), Help: true);
        var palette = positional[0];
        if (!DefaultCommands.TryGetValue(palette, out var defaultCommand))
            throw new FormatException($"unknown palette '{palette}'; palettes: {string.Join(", ", DefaultCommands.Keys)}");
        // `ctl routes`, `ctl peers` and `ctl status` have one command; `ctl log level debug` keeps "level" as the command.
        var hasCommand = positional.Count > 1 &&
                         (palette is not (CmdPalettes.Routes or CmdPalettes.Peers or CmdPalettes.Status) || positional[1] == "show");
        var command = hasCommand ? positional[1] : defaultCommand;
        var rest = positional.Skip(hasCommand ? 2 : 1).ToList();
        return new CtlArgs(host, shown, json, timeout, new CmdRequest(palette, command, rest, switches), Help: false);
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    /// <summary>A Unix socket path; throws <see cref="FormatException"/> naming --socket when it cannot be one.</summary>
    public static (EndPoint Host, string Shown) ParseSocket(string path)
    {
        if (UnixCommandSocket.PathProblem(path) is { } problem) throw new FormatException($"--socket '{path}' {problem}");
        return (new UnixDomainSocketEndPoint(path), path);
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
