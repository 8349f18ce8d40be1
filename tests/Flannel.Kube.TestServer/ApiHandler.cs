using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Flannel.Kube.TestServer;

/// <summary>Routes core/v1 REST calls onto the <see cref="ResourceStore"/>; every failure is answered with a Status object.</summary>
public sealed class ApiHandler(ResourceStore store)
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };
    private readonly System.Collections.Concurrent.ConcurrentQueue<ApiRequest> _requests = new();

    /// <summary>Every resource request served, as RBAC sees it (verb, resource, subresource): tests check RBAC rules against it.</summary>
    public IReadOnlyCollection<ApiRequest> Requests => _requests;

    public async Task HandleAsync(HttpContext ctx)
    {
        try
        {
            await RouteAsync(ctx);
        }
        catch (ApiException e)
        {
            if (!ctx.Response.HasStarted) await WriteJsonAsync(ctx, e.Code, e.ToStatus());
        }
        catch (JsonException e)
        {
            if (!ctx.Response.HasStarted) await WriteJsonAsync(ctx, 400, ApiException.BadRequest($"invalid JSON in request body: {e.Message}").ToStatus());
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away during a watch.
        }
    }

    private async Task RouteAsync(HttpContext ctx)
    {
        LegacyWatchPaths.Rewrite(ctx.Request);
        var path = ctx.Request.Path.Value?.TrimEnd('/') ?? "";
        var method = ctx.Request.Method;
        switch (path)
        {
            case "/version": await WriteJsonAsync(ctx, 200, DiscoveryDocuments.Version()); return;
            case "/api": await WriteJsonAsync(ctx, 200, DiscoveryDocuments.ApiVersions(ctx.Request.Host.Value ?? "127.0.0.1")); return;
            case "/apis": await WriteJsonAsync(ctx, 200, DiscoveryDocuments.ApiGroups()); return;
            case "/api/v1": await WriteJsonAsync(ctx, 200, DiscoveryDocuments.CoreV1Resources()); return;
            case "/openapi/v3": await WriteJsonAsync(ctx, 200, OpenApiDocuments.Index()); return;
            case OpenApiDocuments.CoreV1Path: await WriteJsonAsync(ctx, 200, OpenApiDocuments.CoreV1()); return;
            case "/healthz" or "/readyz" or "/livez": ctx.Response.ContentType = "text/plain"; await ctx.Response.WriteAsync("ok"); return;
        }
        if (GroupDiscovery.Document(path) is { } groupDocument) { await WriteJsonAsync(ctx, 200, groupDocument); return; }
        var (group, segments) = GroupDiscovery.Resource(path)
            ?? throw new ApiException(404, "NotFound", "the server could not find the requested resource");

        var route = ParseRoute(segments);
        if (route.Type.Group != group) throw new ApiException(404, "NotFound", $"the server could not find the requested resource ({route.Type.Plural})");
        var q = ctx.Request.Query;
        // As RBAC sees it: a collection request with a metadata.name field selector names that object.
        var rbacName = route.Name ?? (method == "GET" ? FieldSelector.Parse(q["fieldSelector"]).ExactName : null);
        _requests.Enqueue(new ApiRequest(RbacVerb(method, route.Name, IsTrue(q["watch"])), route.Type.Plural, route.Subresource, route.Namespace, rbacName));
        switch (method, route.Name)
        {
            case ("GET", _) when IsTrue(q["watch"]) && route.Subresource is null:
                await WatchAsync(ctx, route);
                return;
            case ("GET", null):
                await ListAsync(ctx, route);
                return;
            case ("POST", null):
                await WriteJsonAsync(ctx, 201, store.Create(route.Type, route.Namespace, await ReadObjectAsync(ctx)));
                return;
            case ("GET", not null):
                await WriteJsonAsync(ctx, 200, store.Get(route.Type, route.Namespace, route.Name));
                return;
            case ("PUT", not null):
                await WriteJsonAsync(ctx, 200, store.Replace(route.Type, route.Namespace, route.Name, await ReadObjectAsync(ctx), route.Subresource));
                return;
            case ("PATCH", not null):
                var contentType = (ctx.Request.ContentType ?? "").Split(';')[0].Trim();
                var patch = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted)
                            ?? throw ApiException.BadRequest("empty patch body");
                await WriteJsonAsync(ctx, 200, store.Patch(route.Type, route.Namespace, route.Name, contentType, patch, route.Subresource));
                return;
            case ("DELETE", not null) when route.Subresource is null:
                var deleted = store.Delete(route.Type, route.Namespace, route.Name);
                await WriteJsonAsync(ctx, 200, deleted);
                return;
            default:
                throw ApiException.MethodNotAllowed($"the server does not allow this method on the requested resource: {method} {path}");
        }
    }

    private sealed record Route(ResourceType Type, string? Namespace, string? Name, string? Subresource);

    private static Route ParseRoute(string[] s)
    {
        ResourceType Type(string plural) => ResourceType.ByPlural(plural)
            ?? throw new ApiException(404, "NotFound", $"the server could not find the requested resource ({plural})");
        string? Sub(string[] parts, int i)
        {
            if (parts.Length <= i) return null;
            if (parts.Length > i + 1 || parts[i] != "status") throw new ApiException(404, "NotFound", "the server could not find the requested resource");
            return parts[i];
        }
        // /namespaces/{ns}/{plural}[/{name}[/status]] addresses namespaced resources; /namespaces[/{name}] the namespaces themselves.
        if (s[0] == "namespaces" && s.Length >= 3)
        {
            var type = Type(s[2]);
            if (!type.Namespaced) throw new ApiException(404, "NotFound", "the server could not find the requested resource");
            return new Route(type, s[1], s.Length > 3 ? s[3] : null, Sub(s, 4));
        }
        var t = Type(s[0]);
        if (t.Namespaced && s.Length > 1) throw new ApiException(404, "NotFound", "the server could not find the requested resource");
        return new Route(t, null, s.Length > 1 ? s[1] : null, Sub(s, 2));
    }

    private async Task ListAsync(HttpContext ctx, Route route)
    {
        var q = ctx.Request.Query;
        var offset = 0;
        if (!string.IsNullOrEmpty(q["continue"]))
        {
            try { offset = int.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(q["continue"]!)), CultureInfo.InvariantCulture); }
            catch (FormatException) { throw ApiException.BadRequest("continue key is not valid"); }
        }
        var limit = int.TryParse(q["limit"], out var l) && l > 0 ? l : int.MaxValue;
        var (page, total, revision) = store.List(route.Type, route.Namespace, LabelSelector.Parse(q["labelSelector"]), FieldSelector.Parse(q["fieldSelector"]),
            offset, limit);
        var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
        var next = offset + page.Count;
        if (next < total)
        {
            metadata["continue"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(next.ToString(CultureInfo.InvariantCulture)));
            metadata["remainingItemCount"] = total - next;
        }
        if (WantsTable(ctx))
        {
            await WriteJsonAsync(ctx, 200, TableRenderer.Render(route.Type, page, metadata));
            return;
        }
        var array = new JsonArray();
        foreach (var item in page) array.Add(item);
        await WriteJsonAsync(ctx, 200, new JsonObject
        {
            ["kind"] = route.Type.ListKind,
            ["apiVersion"] = route.Type.ApiVersion,
            ["metadata"] = metadata,
            ["items"] = array,
        });
    }

    private async Task WatchAsync(HttpContext ctx, Route route)
    {
        var q = ctx.Request.Query;
        var labels = LabelSelector.Parse(q["labelSelector"]);
        var fields = FieldSelector.Parse(q["fieldSelector"]);
        if (route.Name is not null)
            fields = FieldSelector.Parse(string.Join(',', new[] { (string?)q["fieldSelector"], $"metadata.name={route.Name}" }.Where(s => !string.IsNullOrEmpty(s))));
        var watch = store.OpenWatch(route.Type, route.Namespace, labels, fields, q["resourceVersion"], IsTrue(q["allowWatchBookmarks"]));
        var timeout = int.TryParse(q["timeoutSeconds"], out var ts) && ts > 0 ? TimeSpan.FromSeconds(ts) : Timeout.InfiniteTimeSpan;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        if (timeout != Timeout.InfiniteTimeSpan) cts.CancelAfter(timeout);

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers.CacheControl = "no-cache, private";
        await ctx.Response.StartAsync(ctx.RequestAborted);
        try
        {
            while (true)
            {
                JsonObject frame;
                using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
                {
                    if (watch.Bookmarks) idle.CancelAfter(store.BookmarkInterval);
                    try
                    {
                        if (!await watch.Reader.WaitToReadAsync(idle.Token)) break;
                    }
                    catch (OperationCanceledException) when (!cts.IsCancellationRequested)
                    {
                        watch.RequestBookmark();
                        continue;
                    }
                    if (!watch.Reader.TryRead(out frame!)) continue;
                }
                await ctx.Response.WriteAsync(frame.ToJsonString(Compact) + "\n", cts.Token);
                await ctx.Response.Body.FlushAsync(cts.Token);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // timeoutSeconds elapsed or the client disconnected: end the stream normally.
        }
        finally
        {
            watch.Close();
        }
    }

    private static string RbacVerb(string method, string? name, bool watch) => method switch
    {
        "GET" when watch => "watch",
        "GET" => name is null ? "list" : "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => name is null ? "deletecollection" : "delete",
        _ => method.ToLowerInvariant(),
    };

    private static bool WantsTable(HttpContext ctx) =>
        ctx.Request.Headers.Accept.Any(a => a is not null && a.Contains("as=Table", StringComparison.Ordinal));

    private static bool IsTrue(string? value) => value is "true" or "1";

    private static async Task<JsonObject> ReadObjectAsync(HttpContext ctx) =>
        await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted) as JsonObject
        ?? throw ApiException.BadRequest("request body must be a JSON object");

    private static async Task WriteJsonAsync(HttpContext ctx, int code, JsonObject body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        // Straight to the response as UTF-8 (a list of thousands of Nodes is megabytes: no intermediate string).
        await JsonSerializer.SerializeAsync(ctx.Response.Body, body, Compact, ctx.RequestAborted);
    }
}

/// <summary>One served request in RBAC terms; <paramref name="Name"/> is the resource name the authorizer sees.</summary>
public sealed record ApiRequest(string Verb, string Resource, string? Subresource, string? Namespace, string? Name)
{
    public string ResourceWithSubresource => Subresource is null ? Resource : $"{Resource}/{Subresource}";
}
