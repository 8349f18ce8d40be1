using System.Net;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flannel.Kube.TestServer;

/// <summary>
/// An in-process Kubernetes API server for tests, on http://127.0.0.1:&lt;port&gt; (port 0 = any free one).
/// KubernetesClient and kubectl both talk to it; tests seed and mutate state through <see cref="Store"/> or typed helpers.
/// </summary>
public sealed class KubeTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiHandler _handler;

    public ResourceStore Store { get; }

    public Uri BaseUri { get; }

    public int Port => BaseUri.Port;

    /// <summary>Every resource request served so far, in RBAC terms.</summary>
    public IReadOnlyCollection<ApiRequest> Requests => _handler.Requests;

    private KubeTestServer(WebApplication app, ApiHandler handler, ResourceStore store, Uri baseUri)
    {
        _app = app;
        _handler = handler;
        Store = store;
        BaseUri = baseUri;
    }

    /// <param name="address">Where to listen; loopback by default. Tests that run agents in network namespaces start the
    /// standalone server inside their own underlay namespace on its bridge address.</param>
    /// <param name="tls">When set, HTTPS is served too, on <paramref name="tlsPort"/> (in-cluster clients: see <see cref="ServingCertificate"/>).</param>
    public static async Task<KubeTestServer> StartAsync(int port = 0, ResourceStore? store = null, ILoggerProvider? logger = null,
        IPAddress? address = null, System.Security.Cryptography.X509Certificates.X509Certificate2? tls = null, int tlsPort = 0)
    {
        store ??= new ResourceStore();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logger is not null) builder.Logging.AddProvider(logger);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address ?? IPAddress.Loopback, port);
            if (tls is not null) k.Listen(address ?? IPAddress.Loopback, tlsPort, o => o.UseHttps(tls));
        });
        var app = builder.Build();
        var handler = new ApiHandler(store);
        app.Run(handler.HandleAsync);
        await app.StartAsync();
        var listening = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First(a => a.StartsWith("http:", StringComparison.Ordinal));
        return new KubeTestServer(app, handler, store, new Uri(listening.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    /// <summary>A KubernetesClient pointed at this server.</summary>
    public Kubernetes CreateClient() => new(new KubernetesClientConfiguration { Host = BaseUri.ToString() });

    /// <summary>Writes a kubeconfig for kubectl or --kubeconfig-file pointing at this server; returns its path.</summary>
    public string WriteKubeconfig(string path) => Kubeconfig.Write(path, BaseUri);

    /// <summary>Seeds or replaces objects given as typed KubernetesClient models (V1Node, V1Pod, V1ConfigMap, ...).</summary>
    public void Put(params IKubernetesObject[] objects)
    {
        foreach (var obj in objects)
        {
            var json = JsonNode.Parse(KubernetesJson.Serialize(obj))!.AsObject();
            Store.Upsert(ResourceType.ByKind(obj.Kind) ?? throw new ArgumentException($"kind {obj.Kind} is not served"), json);
        }
    }

    /// <summary>Seeds objects from a multi-document YAML text (Nodes, Pods, ConfigMaps, Namespaces).</summary>
    public void PutYaml(string yaml) => Put(StateFile.Parse(yaml).ToArray());

    public T Get<T>(string kind, string name, string? ns = null)
    {
        var type = ResourceType.ByKind(kind) ?? throw new ArgumentException($"kind {kind} is not served");
        return KubernetesJson.Deserialize<T>(Store.Get(type, ns, name).ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        Store.DisconnectWatches();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
