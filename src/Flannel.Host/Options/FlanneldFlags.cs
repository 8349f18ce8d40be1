using System.CommandLine;
using System.CommandLine.Help;

namespace Flannel.Host.Options;

/// <summary>
/// The System.CommandLine definition of every flanneld flag. Values that need flannel-specific validation are read as
/// strings and converted by <see cref="FlanneldOptions.Parse"/>, so every error names the flag in one consistent form.
/// </summary>
internal sealed class FlanneldFlags
{
    public readonly Option<string[]> Iface = List("--iface",
        "Interface to use (IP or name) for inter-host communication; repeatable, tried in order.");
    public readonly Option<string[]> IfaceRegex = List("--iface-regex",
        "Regex matched against interface IPs, then names; repeatable, first match wins.");
    public readonly Option<string> IfaceCanReach = Text("--iface-can-reach",
        "Use the interface the route to this IP goes through.");
    public readonly Option<string> PublicIp = Text("--public-ip",
        "IP accessible by other nodes for inter-host communication (defaults to the interface IP).");
    public readonly Option<string> SubnetFile = Text("--subnet-file",
        "Filename where env variables (subnet, MTU, ...) will be written to.", FlanneldOptions.DefaultSubnetFile);
    public readonly Option<string> NetConfigPath = Text("--net-config-path",
        "Path to the network configuration file (net-conf.json).", FlanneldOptions.DefaultNetConfigPath);
    public readonly Option<bool> IpMasq = Flag("--ip-masq", "Set up IP masquerade rules for traffic leaving the flannel network.");
    public readonly Option<bool> IpMasqFullyRandomDisable = Flag("--ip-masq-fully-random-disable",
        "Do not add --random-fully to the MASQUERADE rules.");
    public readonly Option<string> IptablesResync = Text("--iptables-resync",
        "Resync period for iptables rules: seconds, or a duration like 5s.", "5");
    public readonly Option<bool> IptablesForwardRules = Flag("--iptables-forward-rules",
        "Add default ACCEPT rules to the FORWARD chain.", true);
    public readonly Option<string> SubnetLeaseRenewMargin = Text("--subnet-lease-renew-margin",
        "Subnet lease renewal margin, in minutes (1..1439).", "60");
    public readonly Option<string> HealthzIp = Text("--healthz-ip",
        "The IP address for the healthz server to listen on.", "0.0.0.0");
    public readonly Option<string> HealthzPort = Text("--healthz-port",
        "The port for the healthz server to listen on (0 disables it).", "0");
    public readonly Option<bool> KubeSubnetMgr = Flag("--kube-subnet-mgr", "Contact the Kubernetes API for subnet assignment.");
    public readonly Option<string> KubeApiUrl = Text("--kube-api-url",
        "Kubernetes API server URL; in-cluster configuration when empty.");
    public readonly Option<string> KubeconfigFile = Text("--kubeconfig-file",
        "kubeconfig file location; in-cluster configuration when empty.");
    public readonly Option<string> KubeAnnotationPrefix = Text("--kube-annotation-prefix",
        "Kubernetes annotation prefix.", FlanneldOptions.DefaultKubeAnnotationPrefix);
    public readonly Option<bool> SetNodeNetworkUnavailable = Flag("--set-node-network-unavailable",
        "Set the node's NetworkUnavailable condition to False once the lease is held.", true);
    public readonly Option<string> ClusterSeeds = Text("--cluster-seeds",
        "Akka cluster seed nodes as host:port,host:port (outside Kubernetes).");
    public readonly Option<string> ClusterPort = Text("--cluster-port", "Akka remoting port.", "4053");
    public readonly Option<string> ClusterFormAloneAfter = Text("--cluster-form-alone-after",
        "After a restart with a lease store that remembers a cluster of several nodes, form a cluster alone when no seed " +
        "has answered as a member for this long (like 10m; 0, the default, = never: wait for a majority of the remembered " +
        "members or for the running cluster).", "0");
    public readonly Option<string> ClusterHostname = Text("--cluster-hostname",
        "Address other nodes reach this node's actor system at (defaults to the public IP).");
    public readonly Option<string> ClusterTlsCert = Text("--cluster-tls-cert",
        "PEM certificate of this node for the cluster transport (mutual TLS; with --cluster-tls-key and --cluster-tls-ca).");
    public readonly Option<string> ClusterTlsKey = Text("--cluster-tls-key", "PEM private key of --cluster-tls-cert.");
    public readonly Option<string> ClusterTlsCa = Text("--cluster-tls-ca",
        "PEM file of the cluster CA certificate(s): peers must present a certificate issued by one of them.");
    public readonly Option<bool> ClusterInsecure = Flag("--cluster-insecure",
        "Allow a cluster of several nodes without TLS: anyone who reaches the cluster port can join it.");
    public readonly Option<string> HoconFile = Text("--hocon-file",
        "Extra HOCON file whose settings override the bundled hocon/ files.");
    public readonly Option<string> CmdPort = Text("--cmd-port",
        "Loopback TCP port for `flanneld ctl` (0, the default, disables it; any local user can use it).", "0");
    // Zero or one value and no default factory: System.CommandLine drops an empty token, and `--cmd-socket ""` must
    // mean "off" rather than an error or the default (which FlanneldOptions.Parse applies when the flag is absent).
    public readonly Option<string> CmdSocket = Text("--cmd-socket",
        $"Root-only Unix socket for `flanneld ctl` (default {FlanneldOptions.DefaultCmdSocket}; \"\" disables it).",
        null, ArgumentArity.ZeroOrOne);
    // Like --cmd-socket: zero or one value, so `--lease-store ""` means "off" rather than the default.
    public readonly Option<string> LeaseStore = Text("--lease-store",
        $"File that keeps the cluster's lease table across restarts of every agent (default {FlanneldOptions.DefaultLeaseStore}; \"\" = memory only).",
        null, ArgumentArity.ZeroOrOne);
    public readonly Option<string> LogFormatOption = Text("--log-format", "Log format: text or json.", "text");
    public readonly Option<string> UdpDatapath = Text("--udp-datapath",
        "udp backend data path: auto (TC-BPF when it loads, else TUN), bpf (TC-BPF or fail), tun (user-space tunnel only).", "auto");
    public readonly Option<string> LogLevelOption = Text("--log-level",
        "Log level: trace, debug, info, warn, error, critical, none.", "info");
    public readonly Option<string> NodeName = Text("--node-name",
        "This node's name (default: NODE_NAME, else the host name).");
    public readonly Option<bool> UseNftables = Flag("--use-nftables", "Program masquerade/forward rules with nftables instead of iptables.");
    public readonly Option<bool> ReleaseStartupPages = Flag("--release-startup-pages",
        "Once ready, give back the pages of the executable only start-up used (madvise MADV_PAGEOUT, then MADV_RANDOM so " +
        "only pages used again fault back in): about 25 MiB less RSS. --release-startup-pages=false keeps them.", true);
    public readonly Option<bool> Version = Flag("--version", "Print the version and exit.");

    public RootCommand Root { get; }

    /// <summary>Every flag that can also come from FLANNELD_&lt;FLAG&gt;.</summary>
    public IReadOnlyList<Option> EnvBacked { get; }

    public FlanneldFlags()
    {
        Root = new RootCommand("flanneld: the flannel pod network agent (Flannel.NET). Every flag can also be set as FLANNELD_<FLAG>.");
        // Our --version replaces the built-in one: flannel prints just the version string.
        foreach (var builtIn in Root.Options.Where(o => o is VersionOption).ToList()) Root.Options.Remove(builtIn);
        EnvBacked =
        [
            Iface, IfaceRegex, IfaceCanReach, PublicIp, SubnetFile, NetConfigPath, IpMasq, IpMasqFullyRandomDisable,
            IptablesResync, IptablesForwardRules, SubnetLeaseRenewMargin, HealthzIp, HealthzPort, KubeSubnetMgr, KubeApiUrl,
            KubeconfigFile, KubeAnnotationPrefix, SetNodeNetworkUnavailable, ClusterSeeds, ClusterPort, ClusterHostname, ClusterFormAloneAfter,
            ClusterTlsCert, ClusterTlsKey, ClusterTlsCa, ClusterInsecure, HoconFile, CmdPort, CmdSocket, LogFormatOption, LogLevelOption,
            NodeName, UseNftables, Version, LeaseStore, UdpDatapath, ReleaseStartupPages,
        ];
        foreach (var o in EnvBacked) Root.Options.Add(o);
    }

    public bool IsHelpRequested(ParseResult result) =>
        Root.Options.OfType<HelpOption>().Any(h => result.GetResult(h) is not null);

    private static Option<string[]> List(string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
    };

    private static Option<string> Text(string name, string description, string? defaultValue = null, ArgumentArity? arity = null)
    {
        var o = new Option<string>(name) { Description = description, Arity = arity ?? ArgumentArity.ExactlyOne };
        if (defaultValue != null) o.DefaultValueFactory = _ => defaultValue;
        return o;
    }

    private static Option<bool> Flag(string name, string description, bool defaultValue = false) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
    };
}
