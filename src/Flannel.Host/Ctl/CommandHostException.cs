namespace Flannel.Host.Ctl;

/// <summary>The command host cannot start as asked (non-loopback address, port in use).</summary>
public sealed class CommandHostException(string message, Exception? inner = null) : Exception(message, inner);
