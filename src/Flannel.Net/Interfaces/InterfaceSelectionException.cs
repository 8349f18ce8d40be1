namespace Flannel.Net.Interfaces;

/// <summary>No interface fits the selection flags; the message names the flag and value (flanneld exits 1).</summary>
public sealed class InterfaceSelectionException(string message) : Exception(message);
