using Flannel.Actors.Cmd;
using Flannel.Host.Options;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Logging;

/// <summary>The process's minimum log level, changeable at run time (`flanneld ctl log level debug`).</summary>
public sealed class LogLevelSwitch(LogLevel initial) : ILogLevelSwitch
{
    private volatile int _level = (int)initial;

    public LogLevel Level => (LogLevel)_level;

    public string Current => Level.ToString();

    public bool IsEnabled(LogLevel level) => level != LogLevel.None && level >= Level;

    public void Set(string level)
    {
        if (!ValueParsers.TryParseLogLevel(level, out var parsed))
            throw new FormatException($"log level '{level}' is not one of trace, debug, information, warning, error, critical, none");
        _level = (int)parsed;
    }
}
