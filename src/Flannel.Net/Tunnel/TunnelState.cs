namespace Flannel.Net.Tunnel;

/// <summary>What the workers share: the current peer table (swapped atomically) and fixed settings.</summary>
internal sealed class TunnelState
{
    private PeerTable _table = PeerTable.Empty;
    private LocalSubnet? _local;
    private uint _tunAddress;

    public required int Mtu { get; init; }

    /// <summary>Deliver only inner packets from the sending peer's subnets to this node's lease (<see cref="InnerAddressCheck"/>).</summary>
    public required bool CheckInnerAddresses { get; init; }

    /// <summary>Host-order TUN address for ICMP replies; 0 = send none. Follows the lease.</summary>
    public required uint TunAddress
    {
        get => Volatile.Read(ref _tunAddress);
        set => Volatile.Write(ref _tunAddress, value);
    }

    /// <summary>This node's lease (swapped on a lease change); null until known, which refuses every inbound packet.</summary>
    public LocalSubnet? Local
    {
        get => Volatile.Read(ref _local);
        set => Volatile.Write(ref _local, value);
    }

    public PeerTable Table
    {
        get => Volatile.Read(ref _table);
        set => Volatile.Write(ref _table, value);
    }
}
