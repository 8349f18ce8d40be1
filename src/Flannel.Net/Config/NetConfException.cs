namespace Flannel.Net.Config;

/// <summary>An invalid net-conf.json; the message names the field and the offending value.</summary>
public sealed class NetConfException(string message) : Exception(message);
