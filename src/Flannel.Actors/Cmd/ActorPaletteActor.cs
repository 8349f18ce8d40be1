using Akka.Actor;

namespace Flannel.Actors.Cmd;

/// <summary>
/// The `actor` palette: `actor hierarchy` lists the local actor tree under /user (and /system with --system),
/// with each actor's type. Reads the local cells' child lists directly: an operator snapshot, not a protocol.
/// </summary>
public sealed class ActorPaletteActor : PaletteActor
{
    private const int MaxDepth = 16;
    private const int MaxActors = 5000;

    public ActorPaletteActor() : base("actor") { }

    public static Props Props() => Akka.Actor.Props.Create(() => new ActorPaletteActor());

    protected override IReadOnlyList<string> Commands { get; } = ["hierarchy [--system]"];

    protected override Task<CmdReply> HandleAsync(CmdRequest request)
    {
        if (request.Command != "hierarchy") return Task.FromResult<CmdReply>(Unknown(request));
        var system = (ExtendedActorSystem)Context.System;
        var budget = MaxActors;
        var roots = new List<ActorNode> { Walk(system.Guardian, 0, ref budget) };
        if (request.Has("system")) roots.Add(Walk(system.SystemGuardian, 0, ref budget));
        return Task.FromResult(Ok(new ActorHierarchyView(roots)));
    }

    public static ActorNode Walk(IActorRef actor, int depth, ref int budget)
    {
        budget--;
        var type = actor is ActorRefWithCell cell ? TypeName(cell.Underlying.Props.Type) : actor.GetType().Name;
        var children = new List<ActorNode>();
        if (actor is ActorRefWithCell withCell && depth < MaxDepth)
        {
            foreach (var child in withCell.Children.OrderBy(c => c.Path.Name, StringComparer.Ordinal))
            {
                if (budget <= 0) break;
                children.Add(Walk(child, depth + 1, ref budget));
            }
        }
        return new ActorNode(actor.Path.ToStringWithoutAddress(), type, children);
    }

    private static string TypeName(Type? type) => type is null ? "?" : type.Name;
}
