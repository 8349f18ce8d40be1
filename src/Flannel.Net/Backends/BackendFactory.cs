using Flannel.Net.Config;
using Flannel.Net.Interfaces;

namespace Flannel.Net.Backends;

/// <summary>Creates the backend net-conf.json asks for. Call on the thread whose network namespace the backend should manage.</summary>
public static class BackendFactory
{
    public static IBackend Create(BackendConfig config, ExternalInterface iface, BackendOptions? options = null)
    {
        options ??= new BackendOptions();
        return config switch
        {
            VxlanBackendConfig vx => new VxlanBackend(vx, iface, options),
            HostGwBackendConfig => new HostGwBackend(iface, options),
            UdpBackendConfig udp => new UdpBackend(udp, iface, options),
            _ => throw new ArgumentException($"unknown backend type '{config.Type}'", nameof(config)),
        };
    }

    /// <summary>The device a backend of this config uses (for <see cref="StaleStateCleaner"/>): flannel.&lt;VNI&gt;, the TUN, or none.</summary>
    public static string? DeviceFor(BackendConfig config, BackendOptions? options = null) => config switch
    {
        VxlanBackendConfig vx => $"flannel.{vx.Vni}",
        UdpBackendConfig => (options ?? new BackendOptions()).TunName,
        _ => null,
    };
}
