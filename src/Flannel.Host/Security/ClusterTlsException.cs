namespace Flannel.Host.Security;

/// <summary>A cluster TLS file that cannot be used; the message names the flag and the file. flanneld exits 1 with it.</summary>
public sealed class ClusterTlsException(string message) : Exception(message);
