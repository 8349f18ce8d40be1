using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Compile-time serializers for the watch events flanneld reads (KubernetesClient's Watcher parses every line as
/// Watcher&lt;KubernetesObject&gt;.WatchEvent, then as the watched type's or V1Status's). KubernetesClient's own
/// source-generated context has no generic types, so it falls back to reflection for these, which the NativeAOT form of
/// flanneld cannot do (the enum-typed "type" property needs generic code not compiled ahead of time): there the watch
/// reported every event as an error and delivered none. <see cref="Register"/> puts this context first in
/// KubernetesClient's serializer options; the names and converters follow KubernetesClient's (camel case, nulls
/// omitted, its date and time-span converters, which the options apply at run time).
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(Watcher<KubernetesObject>.WatchEvent))]
[JsonSerializable(typeof(Watcher<V1Status>.WatchEvent))]
[JsonSerializable(typeof(Watcher<V1Node>.WatchEvent))]
[JsonSerializable(typeof(Watcher<V1ConfigMap>.WatchEvent))]
public sealed partial class KubeWatchJson : JsonSerializerContext
{
    private static int _registered;

    /// <summary>
    /// Adds this context to KubernetesClient's (process-wide) serializer options, once, before any client exists
    /// (KubeClientFactory.Create). Options become read-only at their first use: in flanneld no Kubernetes JSON is read
    /// before the first client is made; a process that used them earlier (in-process tests) keeps the reflection fallback,
    /// which works wherever code can be generated at run time, and fails here where it cannot.
    /// </summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        KubernetesJson.AddJsonOptions(o =>
        {
            if (!o.IsReadOnly) o.TypeInfoResolverChain.Insert(0, Default);
            else if (!RuntimeFeature.IsDynamicCodeSupported)
                throw new InvalidOperationException(
                    "KubernetesClient's JSON options were used before KubeWatchJson.Register: watch events cannot be read in this NativeAOT build");
        });
    }
}
