using System.Net;

namespace Flannel.Net.Masq;

/// <summary>Which of flannel's rule sets to install (--ip-masq, --iptables-forward-rules, --ip-masq-fully-random-disable).</summary>
public sealed record MasqOptions(bool Masquerade = true, bool Forward = true, bool RandomFully = true);

/// <summary>
/// Keeps flannel's NAT/forward rules in place. <see cref="Apply"/> installs them atomically and removes what a previous
/// network or an older flanneld left; <see cref="Missing"/> lists what is absent or extra; <see cref="Ensure"/> re-applies
/// only when something is (call it every --iptables-resync seconds).
/// </summary>
public interface IMasqManager
{
    void Apply(IPNetwork network, IPNetwork lease);

    /// <summary>Human-readable differences from the desired rules; empty when everything is in place.</summary>
    IReadOnlyList<string> Missing(IPNetwork network, IPNetwork lease);

    /// <summary>Re-applies when <see cref="Missing"/> is not empty; returns what was missing.</summary>
    IReadOnlyList<string> Ensure(IPNetwork network, IPNetwork lease);

    /// <summary><see cref="Ensure"/> without holding a thread while the commands run (the periodic check).</summary>
    Task<IReadOnlyList<string>> EnsureAsync(IPNetwork network, IPNetwork lease) => Task.FromResult(Ensure(network, lease));

    /// <summary>Removes every rule and chain this manager installs.</summary>
    void Remove();
}

public static class MasqManager
{
    /// <summary>iptables (iptables-restore --noflush) by default, or nftables (nft -f).</summary>
    public static IMasqManager Create(MasqOptions options, bool useNftables = false, ICommandRunner? runner = null) =>
        useNftables ? new NftablesMasq(options, runner) : new IptablesMasq(options, runner);
}
