namespace Flannel.Net.Netlink;

/// <summary>Numeric values from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/neighbour.h (stable kernel ABI).</summary>
public static class Nl
{
    public const int AF_UNSPEC = 0;
    public const int AF_INET = 2;
    public const int AF_BRIDGE = 7;
    public const int AF_NETLINK = 16;
    public const int NETLINK_ROUTE = 0;

    public const int HeaderSize = 16; // struct nlmsghdr

    // nlmsg_type control messages
    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;

    // nlmsg_flags
    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_MULTI = 0x2;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_DUMP = 0x300;
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_APPEND = 0x800;
    public const ushort NLM_F_ACK_TLVS = 0x200; // on NLMSG_ERROR: extended ack attributes follow
    public const ushort NLM_F_CAPPED = 0x100;   // on NLMSG_ERROR: the echoed request is only the header

    public const int NLMSGERR_ATTR_MSG = 1;

    // socket options
    public const int SOL_NETLINK = 270;
    public const int NETLINK_EXT_ACK = 11;

    // multicast groups (legacy bitmask form used in sockaddr_nl.nl_groups)
    public const uint RTMGRP_LINK = 0x1;
    public const uint RTMGRP_NEIGH = 0x4;
    public const uint RTMGRP_IPV4_IFADDR = 0x10;
    public const uint RTMGRP_IPV4_ROUTE = 0x40;
}

/// <summary>rtnetlink message types.</summary>
public static class Rtm
{
    public const ushort NEWLINK = 16, DELLINK = 17, GETLINK = 18, SETLINK = 19;
    public const ushort NEWADDR = 20, DELADDR = 21, GETADDR = 22;
    public const ushort NEWROUTE = 24, DELROUTE = 25, GETROUTE = 26;
    public const ushort NEWNEIGH = 28, DELNEIGH = 29, GETNEIGH = 30;
}

/// <summary>Attribute numbers of the rtnetlink families used here.</summary>
public static class Attr
{
    // IFLA_*
    public const ushort IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINK = 5, IFLA_MASTER = 10, IFLA_OPERSTATE = 16,
        IFLA_LINKINFO = 18;
    public const ushort IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2;
    // IFLA_VXLAN_*
    public const ushort IFLA_VXLAN_ID = 1, IFLA_VXLAN_LINK = 3, IFLA_VXLAN_LOCAL = 4, IFLA_VXLAN_LEARNING = 7,
        IFLA_VXLAN_L2MISS = 13, IFLA_VXLAN_L3MISS = 14, IFLA_VXLAN_PORT = 15, IFLA_VXLAN_GBP = 23;
    // IFA_*
    public const ushort IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3;
    // RTA_*
    public const ushort RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PRIORITY = 6, RTA_PREFSRC = 7, RTA_TABLE = 15;
    // NDA_*
    public const ushort NDA_DST = 1, NDA_LLADDR = 2, NDA_PORT = 6, NDA_VNI = 7, NDA_IFINDEX = 8, NDA_MASTER = 9;

    public const ushort NLA_F_NESTED = 0x8000;
    public const ushort NLA_TYPE_MASK = 0x3fff;
}

/// <summary>Route table/protocol/scope/type/flag values.</summary>
public static class Rt
{
    public const byte TABLE_MAIN = 254;
    public const byte PROT_UNSPEC = 0, PROT_KERNEL = 2, PROT_BOOT = 3, PROT_STATIC = 4;

    /// <summary>
    /// rtm_protocol stamped on every route flannel.NET installs, so reconciliation and clean-up only ever touch routes
    /// this agent created. 0x46 ('F') is not assigned in iproute2's rt_protos.
    /// </summary>
    public const byte PROT_FLANNEL = 0x46;

    public const byte SCOPE_UNIVERSE = 0, SCOPE_LINK = 253, SCOPE_HOST = 254, SCOPE_NOWHERE = 255;
    public const byte TYPE_UNICAST = 1, TYPE_LOCAL = 2;
    public const uint F_ONLINK = 0x4; // RTNH_F_ONLINK in rtm_flags
}

/// <summary>Neighbour states and flags.</summary>
public static class Nud
{
    public const ushort INCOMPLETE = 0x01, REACHABLE = 0x02, STALE = 0x04, DELAY = 0x08, PROBE = 0x10, FAILED = 0x20,
        NOARP = 0x40, PERMANENT = 0x80;
    public const byte NTF_SELF = 0x02, NTF_MASTER = 0x04;
}

public static class LinkFlags
{
    public const uint IFF_UP = 0x1;
    public const uint IFF_RUNNING = 0x40;
    public const uint IFF_LOWER_UP = 0x10000;
}
