using System.Runtime.InteropServices;
using Flannel.Net.Tunnel;
using Flannel.TunnelHost;

// Test and benchmark support: runs a UdpTunnel in the current network namespace with a static peer table, prints a
// "ready" JSON line once the TUN exists (the caller then configures it with `ip`), keeps a counters file fresh, and
// prints the final counters on SIGTERM/SIGINT.
HostArguments parsed;
try
{
    parsed = HostArguments.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(HostArguments.Usage);
    return 2;
}

using var tunnel = UdpTunnel.Start(parsed.Options);
tunnel.UpdatePeers(parsed.Peers);
Console.WriteLine(CountersJson.Format("ready", tunnel));
Console.Out.Flush();

using var stop = new ManualResetEventSlim();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });

void WriteStats()
{
    if (parsed.StatsFile is null) return;
    var tmp = parsed.StatsFile + ".tmp";
    File.WriteAllText(tmp, CountersJson.Format("stats", tunnel) + "\n");
    File.Move(tmp, parsed.StatsFile, overwrite: true);
}

while (!stop.Wait(parsed.StatsIntervalMs)) WriteStats();
WriteStats();
Console.WriteLine(CountersJson.Format("exit", tunnel));
return 0;
