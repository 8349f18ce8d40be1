using System.Collections;
using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Options;

/// <summary>
/// flanneld's flags (flannel-compatible plus the cluster/ops flags of Flannel.NET). Every flag can also be given as env
/// FLANNELD_&lt;FLAG&gt; (upper-case, '-' -> '_'), used only when the flag itself is absent.
/// </summary>
public sealed record FlanneldOptions
{
    public const string DefaultSubnetFile = "/run/flannel/subnet.env";
    public const string DefaultNetConfigPath = "/etc/kube-flannel/net-conf.json";
    public const string DefaultKubeAnnotationPrefix = "flannel.alpha.coreos.com";
    public const int DefaultClusterPort = 4053;
    /// <summary>TCP for `flanneld ctl` is off unless asked for: it cannot tell which local user connects.</summary>
    public const int DefaultCmdPort = 0;
    public const string DefaultCmdSocket = Flannel.Host.Ctl.UnixCommandSocket.DefaultPath;
    /// <summary>Persistent (not /run): the lease table must outlive a reboot of every node.</summary>
    public const string DefaultLeaseStore = "/var/lib/flannel/leases";

    /// <summary>--iface: interface names or IPs, tried in order.</summary>
    public IReadOnlyList<string> Iface { get; init; } = [];
    /// <summary>--iface-regex: matched against interface IPv4 addresses first, then names.</summary>
    public IReadOnlyList<Regex> IfaceRegex { get; init; } = [];
    public IPAddress? IfaceCanReach { get; init; }
    public IPAddress? PublicIp { get; init; }
    public string SubnetFile { get; init; } = DefaultSubnetFile;
    public string NetConfigPath { get; init; } = DefaultNetConfigPath;
    public bool IpMasq { get; init; }
    public bool IpMasqFullyRandomDisable { get; init; }
    public TimeSpan IptablesResync { get; init; } = TimeSpan.FromSeconds(5);
    public bool IptablesForwardRules { get; init; } = true;
    /// <summary>--release-startup-pages: give back the executable's start-up-only pages once ready (Flannel.Net.Memory.StartupPages).</summary>
    public bool ReleaseStartupPages { get; init; } = true;
    /// <summary>Renew the lease this long before it expires (flannel: minutes, 1..1439).</summary>
    public TimeSpan SubnetLeaseRenewMargin { get; init; } = TimeSpan.FromMinutes(60);
    public IPAddress HealthzIp { get; init; } = IPAddress.Any;
    /// <summary>0 = no health server.</summary>
    public int HealthzPort { get; init; }
    public bool KubeSubnetMgr { get; init; }
    public string? KubeApiUrl { get; init; }
    public string? KubeconfigFile { get; init; }
    public string KubeAnnotationPrefix { get; init; } = DefaultKubeAnnotationPrefix;
    public bool SetNodeNetworkUnavailable { get; init; } = true;
    /// <summary>--cluster-seeds; empty = this node starts a cluster of its own (joins itself).</summary>
    public IReadOnlyList<ClusterSeed> ClusterSeeds { get; init; } = [];
    public int ClusterPort { get; init; } = DefaultClusterPort;
    /// <summary>Address others reach our actor system at; null = use the public IP chosen at start.</summary>
    public string? ClusterHostname { get; init; }
    /// <summary>--cluster-form-alone-after: null = never form a cluster alone when the lease store remembers others.</summary>
    public TimeSpan? ClusterFormAloneAfter { get; init; }
    /// <summary>--cluster-tls-cert/-key/-ca: PEM paths of the cluster credential; all three or none.</summary>
    public string? ClusterTlsCert { get; init; }
    public string? ClusterTlsKey { get; init; }
    public string? ClusterTlsCa { get; init; }
    /// <summary>--cluster-insecure: allow a plain-text cluster of several nodes.</summary>
    public bool ClusterInsecure { get; init; }
    /// <summary>The three --cluster-tls-* files are given (Parse guarantees all or none).</summary>
    public bool HasClusterTls => ClusterTlsCert is not null && ClusterTlsKey is not null && ClusterTlsCa is not null;
    public string? HoconFile { get; init; }
    /// <summary>Loopback TCP port for `flanneld ctl`; 0 = disabled (the default).</summary>
    public int CmdPort { get; init; } = DefaultCmdPort;
    /// <summary>The root-only Unix socket of `flanneld ctl` (--cmd-socket); null = disabled (--cmd-socket "").</summary>
    public string? CmdSocket { get; init; } = DefaultCmdSocket;
    /// <summary>--lease-store: the durable lease table file; null = memory only (--lease-store "").</summary>
    public string? LeaseStore { get; init; } = DefaultLeaseStore;
    public LogFormat LogFormat { get; init; } = LogFormat.Text;

    /// <summary>--udp-datapath: which path the udp backend runs.</summary>
    public Flannel.Net.Backends.UdpDatapathMode UdpDatapath { get; init; } = Flannel.Net.Backends.UdpDatapathMode.Auto;
    public LogLevel LogLevel { get; init; } = LogLevel.Information;
    /// <summary>--node-name, else env NODE_NAME, else the host name.</summary>
    public string NodeName { get; init; } = "";
    /// <summary>Env POD_NAME / POD_NAMESPACE (Kubernetes mode reads the pod for spec.nodeName when NODE_NAME is unset).</summary>
    public string? PodName { get; init; }
    public string? PodNamespace { get; init; }
    public bool UseNftables { get; init; }
    /// <summary>--version: print the version and exit 0.</summary>
    public bool ShowVersion { get; init; }
    /// <summary>-h/--help: print <see cref="HelpText"/> and exit 0.</summary>
    public bool ShowHelp { get; init; }

    /// <summary>The interface-selection flags, for <see cref="Flannel.Net.Interfaces.InterfaceSelector"/>.</summary>
    public Flannel.Net.Interfaces.InterfaceSelection InterfaceSelection => new()
    {
        Iface = Iface,
        IfaceRegex = IfaceRegex,
        IfaceCanReach = IfaceCanReach,
        PublicIp = PublicIp,
    };

    /// <summary>The env variable that backs a flag: --iface-regex -> FLANNELD_IFACE_REGEX.</summary>
    public static string EnvName(string flag) => "FLANNELD_" + flag.TrimStart('-').ToUpperInvariant().Replace('-', '_');

    /// <summary>
    /// Parses flags (Go style single-dash long flags and --flag=value accepted) with FLANNELD_* fallback. Pure: reads
    /// only its arguments (<paramref name="hostName"/> defaults to the machine name). Throws
    /// <see cref="FlanneldOptionsException"/> naming the flag for any bad value.
    /// </summary>
    public static FlanneldOptions Parse(string[] args, IDictionary env, string? hostName = null)
    {
        var flags = new FlanneldFlags();
        var tokens = args.Select(a => NormalizeSingleDash(a, flags)).ToList();
        var fromEnv = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in flags.EnvBacked)
        {
            if (tokens.Any(t => Names(t, option.Name))) continue;
            var envName = EnvName(option.Name);
            if (Lookup(env, envName) is not { Length: > 0 } value) continue;
            fromEnv[option.Name] = envName;
            tokens.AddRange(EnvTokens(option, value, envName));
        }

        var result = flags.Root.Parse(tokens);
        if (result.Errors.Count > 0)
        {
            var message = string.Join("; ", result.Errors.Select(e => e.Message));
            foreach (var (flag, envName) in fromEnv)
                if (message.Contains(flag, StringComparison.Ordinal)) message += $" (value from {envName})";
            throw new FlanneldOptionsException(message);
        }

        string? Str(Option<string> o) => result.GetValue(o) is { Length: > 0 } s ? s : null;
        string Where(Option o) => fromEnv.TryGetValue(o.Name, out var e) ? $"{o.Name} (from {e})" : o.Name;
        FlanneldOptionsException Bad(Option o, string? value, string what) => new($"{Where(o)}: \"{value}\" {what}");

        IPAddress? Ip(Option<string> o)
        {
            var s = Str(o);
            if (s == null) return null;
            return ValueParsers.TryParseIPv4(s, out var ip) ? ip : throw Bad(o, s, "is not an IPv4 address");
        }

        int Int(Option<string> o, int min, int max, string what)
        {
            var s = Str(o);
            if (s != null && int.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
                return v;
            throw Bad(o, s, what);
        }

        var regexes = new List<Regex>();
        foreach (var pattern in result.GetValue(flags.IfaceRegex) ?? [])
        {
            try { regexes.Add(new Regex(pattern, RegexOptions.CultureInvariant)); }
            catch (ArgumentException e) { throw Bad(flags.IfaceRegex, pattern, $"is not a valid regex: {e.Message}"); }
        }

        var resyncText = Str(flags.IptablesResync);
        if (!ValueParsers.TryParseDuration(resyncText ?? "", out var resync) || resync <= TimeSpan.Zero)
            throw Bad(flags.IptablesResync, resyncText, "is not a positive duration (seconds, or like 5s)");

        var formAloneText = Str(flags.ClusterFormAloneAfter) ?? "0";
        if (!ValueParsers.TryParseDuration(formAloneText, out var formAlone) || formAlone < TimeSpan.Zero)
            throw Bad(flags.ClusterFormAloneAfter, formAloneText, "is not a duration (seconds, or like 10m; 0 = never)");

        var clusterPort = Int(flags.ClusterPort, 1, 65535, "is not a port (1-65535)");
        var seeds = new List<ClusterSeed>();
        foreach (var part in (Str(flags.ClusterSeeds) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try { seeds.Add(ClusterSeed.Parse(part, clusterPort)); }
            catch (FormatException e) { throw Bad(flags.ClusterSeeds, part, $"is not host:port ({e.Message})"); }
        }

        // Absent: the default path; given empty (`--cmd-socket ""`): off; a path must be absolute and fit a sockaddr_un.
        var cmdSocket = result.GetResult(flags.CmdSocket) is null ? DefaultCmdSocket : Str(flags.CmdSocket);
        if (cmdSocket != null && Flannel.Host.Ctl.UnixCommandSocket.PathProblem(cmdSocket) is { } socketProblem)
            throw Bad(flags.CmdSocket, cmdSocket, socketProblem);
        var leaseStore = result.GetResult(flags.LeaseStore) is null ? DefaultLeaseStore : Str(flags.LeaseStore);
        if (leaseStore != null && LeaseStorePathProblem(leaseStore) is { } storeProblem)
            throw Bad(flags.LeaseStore, leaseStore, storeProblem);
        // The credential comes as a set: a certificate without its key (or without the CA to check peers against) is
        // a mistake to report at once, naming what is missing.
        Option<string>[] tlsFlags = [flags.ClusterTlsCert, flags.ClusterTlsKey, flags.ClusterTlsCa];
        var tlsGiven = tlsFlags.Where(o => Str(o) is not null).ToList();
        if (tlsGiven.Count is > 0 and < 3)
            throw new FlanneldOptionsException(
                $"{string.Join(" and ", tlsFlags.Except(tlsGiven).Select(o => o.Name))} missing: {string.Join(", ", tlsGiven.Select(Where))} " +
                "needs --cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca together");
        var insecure = result.GetValue(flags.ClusterInsecure);
        if (insecure && tlsGiven.Count == 3)
            throw new FlanneldOptionsException($"{Where(flags.ClusterInsecure)} contradicts --cluster-tls-*: give one or the other");

        var datapathText = Str(flags.UdpDatapath);
        var datapath = datapathText?.Trim().ToLowerInvariant() switch
        {
            null or "" or "auto" => Flannel.Net.Backends.UdpDatapathMode.Auto,
            "bpf" => Flannel.Net.Backends.UdpDatapathMode.Bpf,
            "tun" => Flannel.Net.Backends.UdpDatapathMode.Tun,
            _ => throw Bad(flags.UdpDatapath, datapathText, "is not auto, bpf or tun"),
        };
        var formatText = Str(flags.LogFormatOption);
        var format = formatText?.Trim().ToLowerInvariant() switch
        {
            "text" => LogFormat.Text,
            "json" => LogFormat.Json,
            _ => throw Bad(flags.LogFormatOption, formatText, "is not text or json"),
        };
        var levelText = Str(flags.LogLevelOption);
        if (!ValueParsers.TryParseLogLevel(levelText ?? "", out var level))
            throw Bad(flags.LogLevelOption, levelText, "is not a log level (trace, debug, info, warn, error, critical, none)");

        var kubeApiUrl = Str(flags.KubeApiUrl);
        if (kubeApiUrl != null && !Uri.TryCreate(kubeApiUrl, UriKind.Absolute, out _))
            throw Bad(flags.KubeApiUrl, kubeApiUrl, "is not an absolute URL");

        return new FlanneldOptions
        {
            Iface = (result.GetValue(flags.Iface) ?? []).Select(s => s.Trim()).Where(s => s.Length > 0).ToList(),
            IfaceRegex = regexes,
            IfaceCanReach = Ip(flags.IfaceCanReach),
            PublicIp = Ip(flags.PublicIp),
            SubnetFile = Str(flags.SubnetFile) ?? throw Bad(flags.SubnetFile, "", "must not be empty"),
            NetConfigPath = Str(flags.NetConfigPath) ?? throw Bad(flags.NetConfigPath, "", "must not be empty"),
            IpMasq = result.GetValue(flags.IpMasq),
            IpMasqFullyRandomDisable = result.GetValue(flags.IpMasqFullyRandomDisable),
            IptablesResync = resync,
            IptablesForwardRules = result.GetValue(flags.IptablesForwardRules),
            ReleaseStartupPages = result.GetValue(flags.ReleaseStartupPages),
            SubnetLeaseRenewMargin = TimeSpan.FromMinutes(Int(flags.SubnetLeaseRenewMargin, 1, 1439, "is out of range: must be 1..1439 minutes")),
            HealthzIp = Ip(flags.HealthzIp) ?? IPAddress.Any,
            HealthzPort = Int(flags.HealthzPort, 0, 65535, "is not a port (0-65535, 0 disables)"),
            KubeSubnetMgr = result.GetValue(flags.KubeSubnetMgr),
            KubeApiUrl = kubeApiUrl,
            KubeconfigFile = Str(flags.KubeconfigFile),
            KubeAnnotationPrefix = Str(flags.KubeAnnotationPrefix) ?? DefaultKubeAnnotationPrefix,
            SetNodeNetworkUnavailable = result.GetValue(flags.SetNodeNetworkUnavailable),
            ClusterSeeds = seeds,
            ClusterPort = clusterPort,
            ClusterHostname = Str(flags.ClusterHostname),
            ClusterFormAloneAfter = formAlone == TimeSpan.Zero ? null : formAlone,
            ClusterTlsCert = Str(flags.ClusterTlsCert),
            ClusterTlsKey = Str(flags.ClusterTlsKey),
            ClusterTlsCa = Str(flags.ClusterTlsCa),
            ClusterInsecure = insecure,
            HoconFile = Str(flags.HoconFile),
            CmdPort = Int(flags.CmdPort, 0, 65535, "is not a port (0-65535, 0 disables)"),
            CmdSocket = cmdSocket,
            LeaseStore = leaseStore,
            LogFormat = format,
            UdpDatapath = datapath,
            LogLevel = level,
            NodeName = Str(flags.NodeName) ?? (Lookup(env, "NODE_NAME") is { Length: > 0 } n ? n : hostName ?? Environment.MachineName),
            PodName = Lookup(env, "POD_NAME") is { Length: > 0 } pn ? pn : null,
            PodNamespace = Lookup(env, "POD_NAMESPACE") is { Length: > 0 } pns ? pns : null,
            UseNftables = result.GetValue(flags.UseNftables),
            ShowVersion = result.GetValue(flags.Version),
            ShowHelp = flags.IsHelpRequested(result),
        };
    }

    /// <summary>Why <paramref name="path"/> cannot be the lease store file, or null.</summary>
    public static string? LeaseStorePathProblem(string path) =>
        !Path.IsPathRooted(path) ? "is not an absolute path"
        : path.EndsWith('/') ? "names a directory, not a file"
        : null;

    /// <summary>The --help text.</summary>
    public static string HelpText()
    {
        var flags = new FlanneldFlags();
        using var writer = new StringWriter();
        flags.Root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = writer, Error = writer });
        return writer.ToString();
    }

    private static string? Lookup(IDictionary env, string key) => env.Contains(key) ? env[key] as string : null;

    private static bool Names(string token, string flag) =>
        token == flag || (token.StartsWith(flag, StringComparison.Ordinal) && token.Length > flag.Length && token[flag.Length] is '=' or ':');

    /// <summary>Go's flag package accepts -iface as well as --iface; flannel manifests use both.</summary>
    private static string NormalizeSingleDash(string token, FlanneldFlags flags)
    {
        if (token.Length < 3 || token[0] != '-' || token[1] == '-') return token;
        var candidate = "-" + token;
        return flags.EnvBacked.Any(o => Names(candidate, o.Name)) ? candidate : token;
    }

    private static IEnumerable<string> EnvTokens(Option option, string value, string envName)
    {
        if (option is Option<bool>)
        {
            if (!ValueParsers.TryParseGoBool(value, out var b))
                throw new FlanneldOptionsException($"{option.Name} (from {envName}): \"{value}\" is not a boolean");
            return [$"{option.Name}={(b ? "true" : "false")}"];
        }
        // A list of interfaces fits one variable comma-separated; regexes may contain commas, so they are never split.
        if (option.Name == "--iface")
            return value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).SelectMany(v => new[] { option.Name, v });
        return [option.Name, value];
    }
}
