using Flannel.Demo;
using Flannel.Net.Bpf;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Bpf;

/// <summary>
/// The kernel objects one host's udp BPF path holds, by id: the programs on its TCX hooks (flannel0 egress, the underlay's
/// ingress) and every map they use. Ids are system-wide and not reused soon, so they name exactly this host's objects
/// even while other hosts (or other test runs) load the same programs. An object the kernel still has after the path
/// went away is one that stayed attached, pinned, or held by a leaked descriptor.
/// </summary>
public sealed record BpfFootprint(IReadOnlyList<uint> Programs, IReadOnlyList<uint> Maps)
{
    /// <summary>What <paramref name="hostNamespace"/>'s hooks hold now; the tunnel device and the underlay device by name.</summary>
    public static BpfFootprint Of(string hostNamespace, string underlay = "eth0", string tunnel = "flannel0")
    {
        var hooks = new[] { (tunnel, BpfSyscall.AttachTcxEgress), (underlay, BpfSyscall.AttachTcxIngress) };
        var programs = new List<uint>();
        using (var thread = new NamespaceThread(hostNamespace))
        {
            foreach (var (device, hook) in hooks)
            {
                var ifindex = Netns.Exec(hostNamespace, "cat", [$"/sys/class/net/{device}/ifindex"]);
                Assert.True(ifindex.ExitCode == 0, $"{hostNamespace}: no {device}: {ifindex.Stderr}");
                programs.AddRange(thread.Run(() => BpfSyscall.QueryTcxIds(int.Parse(ifindex.Stdout.Trim()), hook)));
            }
        }
        var maps = programs.SelectMany(p => BpfSyscall.ProgramInfo(p)?.MapIds ?? []).Distinct().Order().ToList();
        return new BpfFootprint(programs, maps);
    }

    /// <summary>The udp path's two programs and its four maps (peers, peer_ips, config, counters), by name.</summary>
    public void AssertIsTheUdpPath()
    {
        Assert.Equal(["flannel_udp_eg", "flannel_udp_in"], Programs.Select(p => BpfSyscall.ProgramInfo(p)?.Name).Order());
        Assert.Equal(["fl_config", "fl_counters", "fl_peer_ips", "fl_peers"], Maps.Select(m => BpfSyscall.MapName(m)).Order());
    }

    /// <summary>The objects of this footprint the kernel still has ("prog 12 flannel_udp_eg", "map 40 fl_peers").</summary>
    public IReadOnlyList<string> StillLoaded() =>
    [
        .. Programs.Select(p => (p, BpfSyscall.ProgramInfo(p)?.Name)).Where(x => x.Name is not null).Select(x => $"prog {x.p} {x.Name}"),
        .. Maps.Select(m => (m, BpfSyscall.MapName(m))).Where(x => x.Item2 is not null).Select(x => $"map {x.m} {x.Item2}"),
    ];

    /// <summary>
    /// Waits (the kernel frees programs and maps after an RCU grace period) until every object is gone, and checks that
    /// nothing of ours is pinned in the BPF filesystem.
    /// </summary>
    public async Task AssertGoneAsync(string what)
    {
        Assert.NotEmpty(Programs);
        await Poll.UntilAsync(() => Task.FromResult(StillLoaded().Count == 0), TimeSpan.FromSeconds(10),
            () => $"{what}: still loaded: {string.Join(", ", StillLoaded())}");
        Assert.Empty(Directory.Exists("/sys/fs/bpf") ? Directory.GetFiles("/sys/fs/bpf", "fl*", SearchOption.AllDirectories) : []);
    }
}
