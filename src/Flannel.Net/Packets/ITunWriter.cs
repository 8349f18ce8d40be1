using Flannel.Net.Native;

namespace Flannel.Net.Packets;

/// <summary>
/// Receives one packet or GSO super-packet to write to the TUN: <c>pieces[0]</c> is reserved for the virtio header
/// (the writer fills it), <c>pieces[1..count)</c> are the packet bytes. <paramref name="packets"/> and
/// <paramref name="bytes"/> describe the inner packets it stands for.
/// </summary>
public unsafe interface ITunWriter
{
    /// <returns>
    /// False only when the kernel refused a UDP GSO super-packet (<see cref="VirtioNetHdr.GsoUdpL4"/>) as such (EINVAL):
    /// nothing was written or counted, and the caller writes the packets another way. True otherwise (written, or
    /// counted as a failed write).
    /// </returns>
    bool Write(in VirtioNetHdr hdr, IoVec* pieces, int count, int packets, int bytes);
}
