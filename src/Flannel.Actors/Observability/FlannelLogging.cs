using Akka.Actor;
using Akka.Actor.Setup;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flannel.Actors.Observability;

/// <summary>
/// Carries the process's ILoggerFactory into the actor system (pass it in the ActorSystemSetup), so actors log the
/// events of <see cref="FlannelLog"/> with event ids and Akka's own log events reach the same sink.
/// </summary>
public sealed class FlannelLoggingSetup(ILoggerFactory loggerFactory) : Setup
{
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;
}

public static class FlannelLogging
{
    /// <summary>The factory given in <see cref="FlannelLoggingSetup"/>, or a null factory (tests, tools).</summary>
    public static ILoggerFactory LoggerFactory(this ActorSystem system) =>
        system.Settings.Setup.Get<FlannelLoggingSetup>().Value?.LoggerFactory ?? NullLoggerFactory.Instance;

    public static ILogger FlannelLogger(this ActorSystem system, string category) =>
        system.LoggerFactory().CreateLogger(category);

    public static ILogger FlannelLogger<T>(this ActorSystem system) => system.LoggerFactory().CreateLogger<T>();
}
