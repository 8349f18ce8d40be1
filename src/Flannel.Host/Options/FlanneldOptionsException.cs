namespace Flannel.Host.Options;

/// <summary>A bad flag or FLANNELD_* value; the message names the flag. flanneld prints it and exits 1.</summary>
public sealed class FlanneldOptionsException(string message) : Exception(message);
