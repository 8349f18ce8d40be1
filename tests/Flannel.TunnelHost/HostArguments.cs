using System.Net;
using Flannel.Net.Backends;
using Flannel.Net.Tunnel;

namespace Flannel.TunnelHost;

/// <summary>Command line of the test/benchmark tunnel host.</summary>
internal sealed record HostArguments(UdpTunnelOptions Options, IReadOnlyList<PeerLease> Peers, string? StatsFile, int StatsIntervalMs)
{
    public const string Usage =
        "usage: Flannel.TunnelHost --local IP --subnet SUBNET [--tun NAME] [--port N] [--mtu N] [--queues N] [--no-offload]\n" +
        "       [--no-inner-check] [--tun-address IP] [--spin-us N] [--nice N] [--peer SUBNET=PUBLICIP]... [--stats-file PATH]\n" +
        "       [--stats-interval-ms N] [--idle-release-ms N]\n" +
        "  --subnet: this host's lease; inner destinations must be inside it (required unless --no-inner-check)";

    public static HostArguments Parse(string[] args)
    {
        string tun = UdpTunnelOptions.DefaultTunName;
        IPAddress? local = null, tunAddress = null;
        IPNetwork? subnet = null;
        int port = UdpTunnelOptions.DefaultPort, mtu = UdpTunnelOptions.DefaultMtu, queues = 0, interval = 500, spinUs = -1, nice = int.MinValue, idleMs = -1;
        bool offload = true, innerCheck = true;
        string? statsFile = null;
        var peers = new List<PeerLease>();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--tun": tun = Value(); break;
                case "--local": local = IPAddress.Parse(Value()); break;
                case "--port": port = int.Parse(Value()); break;
                case "--mtu": mtu = int.Parse(Value()); break;
                case "--queues": queues = int.Parse(Value()); break;
                case "--no-offload": offload = false; break;
                case "--no-inner-check": innerCheck = false; break;
                case "--subnet": subnet = IPNetwork.Parse(Value()); break;
                case "--tun-address": tunAddress = IPAddress.Parse(Value()); break;
                case "--stats-file": statsFile = Value(); break;
                case "--spin-us": spinUs = int.Parse(Value()); break;
                case "--idle-release-ms": idleMs = int.Parse(Value()); break;
                case "--nice": nice = int.Parse(Value()); break;
                case "--stats-interval-ms": interval = int.Parse(Value()); break;
                case "--peer":
                    var v = Value();
                    var parts = v.Split('=', 2);
                    if (parts.Length != 2) throw new ArgumentException($"--peer '{v}' must be SUBNET=PUBLICIP");
                    peers.Add(new PeerLease(IPNetwork.Parse(parts[0]), IPAddress.Parse(parts[1]), "udp", null));
                    break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        if (local is null) throw new ArgumentException("--local is required");
        if (innerCheck && subnet is null)
            throw new ArgumentException("--subnet is required: inner destinations are checked against this host's lease (or pass --no-inner-check)");
        var options = new UdpTunnelOptions(tun, local, port, mtu, queues, offload, innerCheck, tunAddress, subnet);
        if (spinUs >= 0) options = options with { Spin = TimeSpan.FromMicroseconds(spinUs) };
        if (nice != int.MinValue) options = options with { Nice = nice };
        if (idleMs >= 0) options = options with { IdleRelease = TimeSpan.FromMilliseconds(idleMs) };
        return new HostArguments(options, peers, statsFile, interval);
    }
}
