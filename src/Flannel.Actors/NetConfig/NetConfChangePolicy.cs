using Flannel.Net.Config;

// Not "Flannel.Actors.Config": that namespace would hide Akka's Config type from every Flannel.Actors file.
namespace Flannel.Actors.NetConfig;

/// <summary>What to do with an offered net-conf.json.</summary>
public abstract record NetConfDecision
{
    /// <summary>Apply <paramref name="Conf"/>; <paramref name="BackendChanged"/> says whether the data plane must switch.</summary>
    public sealed record Accept(NetConf Conf, bool BackendChanged, string Summary) : NetConfDecision;

    /// <summary>Same network and backend as in force (perhaps reformatted text): nothing to do.</summary>
    public sealed record Unchanged : NetConfDecision;

    /// <summary>Cannot apply while running; the config in force stays. <paramref name="Reason"/> names the field.</summary>
    public sealed record Refuse(string Reason) : NetConfDecision;
}

/// <summary>
/// The rule for live net-conf.json changes, as a pure function. Only the Backend object may change while the cluster
/// runs: every lease, subnet.env and pod address depends on Network and the subnet layout, so a change of those is
/// refused (it needs a new cluster), as is text that does not parse.
/// </summary>
public static class NetConfChangePolicy
{
    public static NetConfDecision Decide(NetConf current, string proposedJson)
    {
        NetConf proposed;
        try
        {
            proposed = NetConf.Parse(proposedJson);
        }
        catch (NetConfException e)
        {
            return new NetConfDecision.Refuse($"invalid net-conf.json: {e.Message}");
        }
        return Decide(current, proposed);
    }

    public static NetConfDecision Decide(NetConf current, NetConf proposed)
    {
        var fixedFields = new List<string>();
        void Check<T>(string field, T before, T after)
        {
            if (!EqualityComparer<T>.Default.Equals(before, after))
                fixedFields.Add($"{field} {Show(before)} -> {Show(after)}");
        }
        Check("Network", current.Network, proposed.Network);
        Check("SubnetLen", current.SubnetLen, proposed.SubnetLen);
        Check("SubnetMin", current.SubnetMin, proposed.SubnetMin);
        Check("SubnetMax", current.SubnetMax, proposed.SubnetMax);
        Check("EnableIPv4", current.EnableIPv4, proposed.EnableIPv4);
        Check("EnableIPv6", current.EnableIPv6, proposed.EnableIPv6);
        Check("IPv6Network", current.IPv6Network, proposed.IPv6Network);
        Check("IPv6SubnetLen", current.IPv6SubnetLen, proposed.IPv6SubnetLen);
        Check("IPv6SubnetMin", current.IPv6SubnetMin, proposed.IPv6SubnetMin);
        Check("IPv6SubnetMax", current.IPv6SubnetMax, proposed.IPv6SubnetMax);
        if (fixedFields.Count > 0)
            return new NetConfDecision.Refuse(
                $"{string.Join(", ", fixedFields)}: only Backend can change while the cluster runs (leases and pod addresses depend on the network)");

        if (proposed == current) return new NetConfDecision.Unchanged();
        var backendChanged = !proposed.Backend.Equals(current.Backend);
        var summary = current.Backend.Type == proposed.Backend.Type
            ? $"backend {proposed.Backend.Type} settings {current.Backend.RawJson} -> {proposed.Backend.RawJson}"
            : $"backend {current.Backend.Type} -> {proposed.Backend.Type}";
        return new NetConfDecision.Accept(proposed, backendChanged, summary);
    }

    private static string Show<T>(T value) => value?.ToString() ?? "(none)";
}
