namespace Flannel.Net.Tunnel;

/// <summary>What the workers share: the current peer table (swapped atomically) and fixed settings.</summary>
internal sealed class TunnelState
{
    private PeerTable _table = PeerTable.Empty;

    public required int Mtu { get; init; }
    public required bool DropForeignSources { get; init; }
    /// <summary>Host-order TUN address for ICMP replies; 0 = send none.</summary>
    public required uint TunAddress { get; init; }

    public PeerTable Table
    {
        get => Volatile.Read(ref _table);
        set => Volatile.Write(ref _table, value);
    }
}
