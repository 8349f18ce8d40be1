using System.Net;

namespace Flannel.Net.SubnetEnv;

/// <summary>
/// The contents of flannel's <c>/run/flannel/subnet.env</c>: what the CNI plugin reads to configure pods.
/// <see cref="Subnet"/> carries the gateway address (lease IP + 1) with the lease prefix, exactly as flannel writes it.
/// </summary>
public sealed record SubnetEnv(
    IPNetwork Network,
    IPAddress SubnetAddress,
    int SubnetPrefix,
    int Mtu,
    bool IpMasq,
    IPNetwork? Ipv6Network = null,
    IPAddress? Ipv6SubnetAddress = null,
    int Ipv6SubnetPrefix = 0)
{
    /// <summary>The subnet.env for a lease: FLANNEL_SUBNET is the lease's first host address with the lease prefix.</summary>
    public static SubnetEnv ForLease(IPNetwork network, IPNetwork lease, int mtu, bool ipMasq) =>
        new(network, Increment(lease.BaseAddress), lease.PrefixLength, mtu, ipMasq);

    /// <summary>The lease subnet itself (FLANNEL_SUBNET with host bits cleared).</summary>
    public IPNetwork Lease => new(Mask(SubnetAddress, SubnetPrefix), SubnetPrefix);

    public string SubnetText => $"{SubnetAddress}/{SubnetPrefix}";

    internal static IPAddress Increment(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (++bytes[i] != 0) break;
        }
        return new IPAddress(bytes);
    }

    internal static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }
        return new IPAddress(bytes);
    }
}
