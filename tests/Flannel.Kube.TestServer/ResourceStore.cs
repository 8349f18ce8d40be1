using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Flannel.Kube.TestServer;

/// <summary>
/// The server's state: objects of every served resource, one global resourceVersion counter (like etcd's revision),
/// a bounded history of changes for resuming watches, and the open watches. Tests drive it directly to force the
/// conditions clients must survive: <see cref="Compact"/> (410 on resume), <see cref="DisconnectWatches"/> and
/// <see cref="ExpireWatches"/>.
/// </summary>
public sealed class ResourceStore
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Plural, string Ns, string Name), JsonObject> _objects = new();
    private readonly LinkedList<Change> _history = new();
    private readonly List<Watch> _watches = new();
    private long _revision;
    private long _compactedRevision;

    /// <summary>How many changes are kept for resuming watches; older resume points get 410 Expired.</summary>
    public int HistoryLimit { get; set; } = 10_000;

    /// <summary>How often an idle watch that asked for bookmarks gets a BOOKMARK event.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(5);

    public long Revision { get { lock (_gate) return _revision; } }

    public long CompactedRevision { get { lock (_gate) return _compactedRevision; } }

    public int OpenWatchCount { get { lock (_gate) return _watches.Count; } }

    public JsonObject Get(ResourceType type, string? ns, string name)
    {
        lock (_gate) return Find(type, ns, name).DeepClone().AsObject();
    }

    public bool TryGet(ResourceType type, string? ns, string name, out JsonObject? obj)
    {
        lock (_gate)
        {
            obj = _objects.TryGetValue(Key(type, ns, name), out var found) ? found.DeepClone().AsObject() : null;
            return obj is not null;
        }
    }

    /// <summary>
    /// Objects of a type in a namespace (null: all namespaces) matching both selectors, sorted by namespace/name: the page
    /// [offset, offset + limit) of them, how many match in all, and the list's revision. Only the page is copied, so
    /// reading thousands of Nodes in pages costs one copy of each, not one of all per page.
    /// </summary>
    public (List<JsonObject> Items, int Total, long Revision) List(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields,
        int offset = 0, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            var matching = _objects
                .Where(kv => kv.Key.Plural == type.Plural && (ns is null || kv.Key.Ns == ns))
                .OrderBy(kv => kv.Key.Ns, StringComparer.Ordinal).ThenBy(kv => kv.Key.Name, StringComparer.Ordinal)
                .Select(kv => kv.Value)
                .Where(o => labels.Matches(o) && fields.Matches(o))
                .ToList();
            var page = matching.Skip(offset).Take(limit).Select(o => o.DeepClone().AsObject()).ToList();
            return (page, matching.Count, _revision);
        }
    }

    public JsonObject Create(ResourceType type, string? ns, JsonObject obj)
    {
        lock (_gate)
        {
            var metadata = obj["metadata"] as JsonObject ?? throw ApiException.BadRequest("metadata is required");
            var name = metadata["name"]?.GetValue<string>();
            if (string.IsNullOrEmpty(name))
            {
                var prefix = metadata["generateName"]?.GetValue<string>();
                if (string.IsNullOrEmpty(prefix)) throw new ApiException(422, "Invalid", $"{type.Kind} \"\" is invalid: metadata.name: Required value: name or generateName is required");
                name = prefix + Guid.NewGuid().ToString("N")[..5];
                metadata["name"] = name;
            }
            if (type.Namespaced)
            {
                var bodyNs = metadata["namespace"]?.GetValue<string>();
                if (bodyNs is not null && ns is not null && bodyNs != ns)
                    throw BadRequestNamespace(bodyNs, ns);
                ns ??= bodyNs ?? "default";
                metadata["namespace"] = ns;
            }
            else metadata.Remove("namespace");
            var key = Key(type, ns, name);
            if (_objects.ContainsKey(key)) throw ApiException.AlreadyExists(type, name);

            var stored = obj.DeepClone().AsObject();
            stored["apiVersion"] = type.ApiVersion;
            stored["kind"] = type.Kind;
            var meta = stored["metadata"]!.AsObject();
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            meta.Remove("resourceVersion");
            meta.Remove("generateName");
            TutorialDefaults.Apply(type, null, stored);
            Commit(type, key, "ADDED", null, stored);
            return stored.DeepClone().AsObject();
        }
    }

    /// <summary>Creates the object, or replaces it when it exists (used for seeding state).</summary>
    public JsonObject Upsert(ResourceType type, JsonObject obj)
    {
        var name = obj["metadata"]?["name"]?.GetValue<string>() ?? throw ApiException.BadRequest("metadata.name is required");
        var ns = type.Namespaced ? obj["metadata"]?["namespace"]?.GetValue<string>() ?? "default" : null;
        lock (_gate)
        {
            if (!_objects.ContainsKey(Key(type, ns, name))) return Create(type, ns, obj);
            var copy = obj.DeepClone().AsObject();
            copy["metadata"]!.AsObject().Remove("resourceVersion");
            return Replace(type, ns, name, copy, subresource: null, keepOtherPart: false);
        }
    }

    /// <summary>PUT semantics. The main resource keeps the stored status, the status subresource keeps everything but status and metadata.</summary>
    public JsonObject Replace(ResourceType type, string? ns, string name, JsonObject obj, string? subresource, bool keepOtherPart = true)
    {
        lock (_gate)
        {
            var current = Find(type, ns, name);
            var bodyName = obj["metadata"]?["name"]?.GetValue<string>();
            if (bodyName is not null && bodyName != name)
                throw ApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
            CheckPrecondition(type, name, current, obj);
            return Store(type, ns, name, current, obj.DeepClone().AsObject(), subresource, keepOtherPart);
        }
    }

    public JsonObject Patch(ResourceType type, string? ns, string name, string contentType, JsonNode patch, string? subresource)
    {
        lock (_gate)
        {
            var current = Find(type, ns, name);
            if (patch is JsonObject po) CheckPrecondition(type, name, current, po);
            var patched = Patches.Apply(contentType, current, patch);
            return Store(type, ns, name, current, patched, subresource, keepOtherPart: true);
        }
    }

    public JsonObject Delete(ResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            var current = Find(type, ns, name);
            var key = Key(type, ns, name);
            var tombstone = current.DeepClone().AsObject();
            Commit(type, key, "DELETED", current, tombstone);
            return tombstone.DeepClone().AsObject();
        }
    }

    /// <summary>Forgets the change history: any watch resuming from an earlier resourceVersion gets 410 Expired.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _history.Clear();
            _compactedRevision = _revision;
        }
    }

    /// <summary>Ends every open watch stream the way a restarting API server or a load balancer does: the response just ends.</summary>
    public int DisconnectWatches()
    {
        lock (_gate)
        {
            foreach (var w in _watches) w.Frames.Writer.TryComplete();
            var n = _watches.Count;
            _watches.Clear();
            return n;
        }
    }

    /// <summary>Compacts, then sends every open watch an ERROR event with a 410 Expired Status and ends it.</summary>
    public int ExpireWatches()
    {
        lock (_gate)
        {
            Compact();
            foreach (var w in _watches)
            {
                w.Frames.Writer.TryWrite(ErrorFrame(TooOld(w.LastRevision)));
                w.Frames.Writer.TryComplete();
            }
            var n = _watches.Count;
            _watches.Clear();
            return n;
        }
    }

    /// <summary>
    /// Opens a watch. resourceVersion empty or "0": synthetic ADDED events for the current matching objects first.
    /// Otherwise the retained changes after that version are replayed; a version older than the retained history yields
    /// a single ERROR event with a 410 Status, exactly like etcd compaction does on a real server.
    /// </summary>
    public Watch OpenWatch(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, string? resourceVersion, bool bookmarks)
    {
        lock (_gate)
        {
            var watch = new Watch(this, type, ns, labels, fields, bookmarks);
            if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                foreach (var item in List(type, ns, labels, fields).Items)
                    watch.Frames.Writer.TryWrite(EventFrame("ADDED", item));
                watch.LastRevision = _revision;
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                    throw ApiException.BadRequest($"invalid resource version \"{resourceVersion}\"");
                if (from < _compactedRevision)
                {
                    watch.Frames.Writer.TryWrite(ErrorFrame(TooOld(from)));
                    watch.Frames.Writer.TryComplete();
                    return watch;
                }
                foreach (var change in _history.Where(c => c.Revision > from)) watch.Offer(change);
                watch.LastRevision = Math.Max(from, _revision);
            }
            _watches.Add(watch);
            return watch;
        }
    }

    internal void CloseWatch(Watch watch)
    {
        lock (_gate)
        {
            _watches.Remove(watch);
            watch.Frames.Writer.TryComplete();
        }
    }

    // Written under the same lock as events, so a bookmark never claims a revision whose events are still unsent.
    internal void OfferBookmark(Watch watch)
    {
        lock (_gate)
        {
            if (!_watches.Contains(watch)) return;
            watch.Frames.Writer.TryWrite(new JsonObject
            {
                ["type"] = "BOOKMARK",
                ["object"] = new JsonObject
                {
                    ["kind"] = watch.Type.Kind,
                    ["apiVersion"] = watch.Type.ApiVersion,
                    ["metadata"] = new JsonObject { ["resourceVersion"] = _revision.ToString(CultureInfo.InvariantCulture) },
                },
            });
        }
    }

    private JsonObject Store(ResourceType type, string? ns, string name, JsonObject current, JsonObject updated, string? subresource, bool keepOtherPart)
    {
        updated["apiVersion"] = type.ApiVersion;
        updated["kind"] = type.Kind;
        var meta = updated["metadata"] as JsonObject ?? new JsonObject();
        updated["metadata"] = meta;
        var currentMeta = current["metadata"]!.AsObject();
        // Identity fields are owned by the server.
        meta["name"] = name;
        if (type.Namespaced) meta["namespace"] = ns; else meta.Remove("namespace");
        meta["uid"] = currentMeta["uid"]?.DeepClone();
        meta["creationTimestamp"] = currentMeta["creationTimestamp"]?.DeepClone();
        if (keepOtherPart && type.HasStatus)
        {
            if (subresource == "status")
            {
                foreach (var (k, _) in current.Where(p => p.Key is not ("status" or "metadata")).ToList())
                    updated[k] = current[k]!.DeepClone();
                foreach (var k in updated.Where(p => p.Key is not ("status" or "metadata" or "apiVersion" or "kind") && !current.ContainsKey(p.Key)).Select(p => p.Key).ToList())
                    updated.Remove(k);
            }
            else
            {
                if (current["status"] is { } status) updated["status"] = status.DeepClone();
                else updated.Remove("status");
            }
        }
        TutorialDefaults.Apply(type, current, updated);
        var withoutRv = updated.DeepClone().AsObject();
        withoutRv["metadata"]!.AsObject()["resourceVersion"] = currentMeta["resourceVersion"]?.DeepClone();
        // A no-op write keeps the resourceVersion and emits no event, as on a real server.
        if (JsonNode.DeepEquals(withoutRv, current)) return current.DeepClone().AsObject();
        Commit(type, Key(type, ns, name), "MODIFIED", current, updated);
        return updated.DeepClone().AsObject();
    }

    private void Commit(ResourceType type, (string, string, string) key, string eventType, JsonObject? old, JsonObject obj)
    {
        _revision++;
        obj["metadata"]!.AsObject()["resourceVersion"] = _revision.ToString(CultureInfo.InvariantCulture);
        if (eventType == "DELETED") _objects.Remove(key);
        else _objects[key] = obj;
        var change = new Change(_revision, type, eventType, old?.DeepClone().AsObject(), obj.DeepClone().AsObject());
        _history.AddLast(change);
        while (_history.Count > HistoryLimit)
        {
            _compactedRevision = _history.First!.Value.Revision;
            _history.RemoveFirst();
        }
        foreach (var w in _watches) w.Offer(change);
    }

    private JsonObject Find(ResourceType type, string? ns, string name) =>
        _objects.TryGetValue(Key(type, ns, name), out var obj) ? obj : throw ApiException.NotFound(type, name);

    private static void CheckPrecondition(ResourceType type, string name, JsonObject current, JsonObject body)
    {
        var wanted = body["metadata"]?["resourceVersion"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(wanted) && wanted != current["metadata"]?["resourceVersion"]?.GetValue<string>())
            throw ApiException.Conflict(type, name);
    }

    private static (string, string, string) Key(ResourceType type, string? ns, string name) =>
        (type.Plural, type.Namespaced ? ns ?? "default" : "", name);

    private static ApiException BadRequestNamespace(string body, string url) =>
        ApiException.BadRequest($"the namespace of the provided object ({body}) does not match the namespace sent on the request ({url})");

    private static ApiException TooOld(long from) => ApiException.Expired($"too old resource version: {from} ({from + 1})");

    internal static JsonObject EventFrame(string type, JsonObject obj) => new() { ["type"] = type, ["object"] = obj };

    internal static JsonObject ErrorFrame(ApiException error) => new() { ["type"] = "ERROR", ["object"] = error.ToStatus() };

    internal sealed record Change(long Revision, ResourceType Type, string EventType, JsonObject? Old, JsonObject Object);

    /// <summary>One open watch: filtered change frames in an unbounded channel, written under the store lock.</summary>
    public sealed class Watch(ResourceStore store, ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, bool bookmarks)
    {
        internal Channel<JsonObject> Frames { get; } = Channel.CreateUnbounded<JsonObject>(new UnboundedChannelOptions { SingleReader = true });
        internal ResourceType Type => type;
        internal long LastRevision { get; set; }
        public bool Bookmarks => bookmarks;
        public ChannelReader<JsonObject> Reader => Frames.Reader;

        public void RequestBookmark() => store.OfferBookmark(this);

        public void Close() => store.CloseWatch(this);

        internal void Offer(Change change)
        {
            if (change.Type != type) return;
            var objNs = change.Object["metadata"]?["namespace"]?.GetValue<string>();
            if (ns is not null && objNs != ns) return;
            var newMatch = labels.Matches(change.Object) && fields.Matches(change.Object);
            var oldMatch = change.Old is not null && labels.Matches(change.Old) && fields.Matches(change.Old);
            // An object moving in or out of the selection is an ADDED or DELETED for this watcher.
            var eventType = change.EventType switch
            {
                "ADDED" => newMatch ? "ADDED" : null,
                "DELETED" => oldMatch ? "DELETED" : null,
                _ => (oldMatch, newMatch) switch { (true, true) => "MODIFIED", (false, true) => "ADDED", (true, false) => "DELETED", _ => null },
            };
            LastRevision = change.Revision;
            if (eventType is not null) Frames.Writer.TryWrite(EventFrame(eventType, change.Object.DeepClone().AsObject()));
        }
    }
}
