namespace Flannel.Actors.Cmd;

/// <summary>Reads and changes the process's log level at run time (`flanneld ctl log level debug`).</summary>
public interface ILogLevelSwitch
{
    /// <summary>The level in force, as a Microsoft.Extensions.Logging level name (Trace, Debug, Information, ...).</summary>
    string Current { get; }

    /// <summary>Sets the level; throws <see cref="ArgumentException"/> naming the accepted levels for an unknown one.</summary>
    void Set(string level);
}
