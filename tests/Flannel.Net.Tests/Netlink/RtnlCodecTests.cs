using System.Net;
using Flannel.Net.Netlink;
using Xunit;

namespace Flannel.Net.Tests.Netlink;

/// <summary>Byte layouts checked against the kernel's structs (nlmsghdr, rtmsg, ifinfomsg, ndmsg, rtattr) by hand.</summary>
public class RtnlCodecTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", "").Replace("\n", ""));

    [Fact]
    public void Add_onlink_route_encodes_rtmsg_and_attributes()
    {
        var route = new RouteInfo(IPNetwork.Parse("10.244.2.0/24"), IPAddress.Parse("10.244.2.0"), 5, OnLink: true);
        var bytes = RtnlCodec.AddRoute(route).ToArray();
        Assert.Equal(Hex(
            "3c000000 1800 0506 00000000 00000000" + // nlmsghdr: len 60, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE
            "02 18 00 00 fe 46 00 01 04000000" +        // rtmsg: AF_INET /24, table main, proto 0x46, universe, unicast, ONLINK
            "0800 0f00 fe000000" +                      // RTA_TABLE 254
            "0800 0100 0af40200" +                      // RTA_DST
            "0800 0500 0af40200" +                      // RTA_GATEWAY
            "0800 0400 05000000"), bytes);              // RTA_OIF 5
    }

    [Fact]
    public void Device_route_gets_link_scope_and_delete_matches_any_scope()
    {
        var route = new RouteInfo(IPNetwork.Parse("10.244.0.0/16"), null, 3);
        var add = RtnlCodec.ReplaceRoute(route).ToArray();
        Assert.Equal(0x0505, BitConverter.ToUInt16(add, 6)); // REQUEST|ACK|REPLACE|CREATE
        Assert.Equal(Rt.SCOPE_LINK, add[16 + 6]);
        var del = RtnlCodec.DeleteRoute(route).ToArray();
        Assert.Equal(Rtm.DELROUTE, BitConverter.ToUInt16(del, 4));
        Assert.Equal(Rt.SCOPE_NOWHERE, del[16 + 6]);
    }

    [Fact]
    public void Vxlan_creation_nests_linkinfo_and_info_data()
    {
        var spec = new VxlanSpec("flannel.1", 1, IPAddress.Parse("192.168.1.10"), 2, Port: 8472, Gbp: true,
            Mac: MacAddress.Parse("0a:58:0a:f4:01:01"), Mtu: 1450);
        var bytes = RtnlCodec.CreateVxlan(spec).ToArray();
        Assert.Equal(Hex(
            "94000000 1000 0506 00000000 00000000" +                 // len 148, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE
            "00 00 0000 00000000 00000000 00000000" +                // ifinfomsg
            "0e00 0300 666c616e6e656c2e3100 0000" +                  // IFLA_IFNAME "flannel.1\0" padded
            "0a00 0100 0a580af40101 0000" +                          // IFLA_ADDRESS
            "0800 0400 aa050000" +                                   // IFLA_MTU 1450
            "5000 1200" +                                            // IFLA_LINKINFO (80)
            "  0a00 0100 76786c616e00 0000" +                        // IFLA_INFO_KIND "vxlan\0"
            "  4000 0200" +                                          // IFLA_INFO_DATA (64)
            "    0800 0100 01000000" +                               // ID 1
            "    0800 0300 02000000" +                               // LINK 2
            "    0800 0400 c0a8010a" +                               // LOCAL
            "    0500 0700 00 000000" +                              // LEARNING 0
            "    0500 0d00 00 000000" +                              // L2MISS 0
            "    0500 0e00 00 000000" +                              // L3MISS 0
            "    0600 0f00 2118 0000" +                              // PORT 8472 big-endian
            "    0400 1700"), bytes);                                // GBP flag
    }

    [Fact]
    public void Link_message_decodes_name_mtu_mac_and_vxlan_data()
    {
        var payload = Hex(
            "00 00 0100 07000000 43100100 00000000" +  // ifinfomsg: index 7, flags UP|RUNNING|LOWER_UP
            "0e00 0300 666c616e6e656c2e3100 0000" +    // IFLA_IFNAME
            "0800 0400 aa050000" +                     // IFLA_MTU 1450
            "0a00 0100 0a580af40101 0000" +            // IFLA_ADDRESS
            "2c00 1200" +                              // IFLA_LINKINFO
            "  0a00 0100 76786c616e00 0000" +          // kind vxlan
            "  1c00 0200" +                            // data
            "    0800 0100 01000000" +                 // ID 1
            "    0800 0400 c0a8010a" +                 // LOCAL
            "    0600 0f00 2118 0000");                // PORT
        var link = RtnlCodec.DecodeLink(payload);
        Assert.Equal(7, link.Index);
        Assert.Equal("flannel.1", link.Name);
        Assert.Equal(1450, link.Mtu);
        Assert.True(link.IsUp);
        Assert.Equal("0a:58:0a:f4:01:01", link.Mac.ToString());
        Assert.Equal("vxlan", link.Kind);
        Assert.Equal(new VxlanInfo(1, IPAddress.Parse("192.168.1.10"), null, 8472, false, false), link.Vxlan);
    }

    [Fact]
    public void Route_message_decodes_table_from_attribute_and_onlink_flag()
    {
        var payload = Hex(
            "02 18 00 00 fe 46 00 01 04000000" +
            "0800 0f00 fe000000" +
            "0800 0100 0af40200" +
            "0800 0500 0af40200" +
            "0800 0400 05000000");
        var r = RtnlCodec.DecodeRoute(payload)!;
        Assert.Equal(IPNetwork.Parse("10.244.2.0/24"), r.Destination);
        Assert.Equal(IPAddress.Parse("10.244.2.0"), r.Gateway);
        Assert.Equal(5, r.OutIndex);
        Assert.True(r.OnLink);
        Assert.Equal(Rt.PROT_FLANNEL, r.Protocol);
        Assert.Equal(254u, r.Table);
    }

    [Fact]
    public void Ipv6_messages_are_skipped()
    {
        Assert.Null(RtnlCodec.DecodeRoute(Hex("0a 40 00 00 fe 02 00 01 00000000")));
        Assert.Null(RtnlCodec.DecodeAddress(Hex("0a 40 00 00 02000000")));
    }

    [Fact]
    public void Neighbour_and_fdb_requests_use_inet_and_bridge_families()
    {
        var mac = MacAddress.Parse("aa:bb:cc:dd:ee:ff");
        var neigh = RtnlCodec.SetNeighbor(new NeighborInfo(4, IPAddress.Parse("10.244.2.0"), mac)).ToArray();
        Assert.Equal(Hex(
            "30000000 1c00 0505 00000000 00000000" +  // RTM_NEWNEIGH, REQUEST|ACK|REPLACE|CREATE
            "02 00 0000 04000000 8000 00 00" +        // ndmsg AF_INET, ifindex 4, NUD_PERMANENT
            "0800 0100 0af40200" +                    // NDA_DST
            "0a00 0200 aabbccddeeff 0000"), neigh);   // NDA_LLADDR

        var fdb = RtnlCodec.AddFdb(new FdbEntry(4, mac, IPAddress.Parse("192.168.1.11"))).ToArray();
        Assert.Equal(Hex(
            "30000000 1c00 050c 00000000 00000000" +  // REQUEST|ACK|CREATE|APPEND
            "07 00 0000 04000000 8000 02 00" +        // AF_BRIDGE, NUD_PERMANENT, NTF_SELF
            "0a00 0200 aabbccddeeff 0000" +           // NDA_LLADDR
            "0800 0100 c0a8010b"), fdb);              // NDA_DST

        var decoded = RtnlCodec.DecodeFdb(fdb.AsSpan(16))!;
        Assert.Equal(new FdbEntry(4, mac, IPAddress.Parse("192.168.1.11")), decoded);
        Assert.Equal(new NeighborInfo(4, IPAddress.Parse("10.244.2.0"), mac), RtnlCodec.DecodeNeighbor(neigh.AsSpan(16)));
    }

    [Fact]
    public void Address_request_carries_local_and_address()
    {
        var bytes = RtnlCodec.AddAddress(new AddressInfo(9, IPAddress.Parse("10.244.1.0"), 32)).ToArray();
        Assert.Equal(Hex(
            "28000000 1400 0506 00000000 00000000" +
            "02 20 00 00 09000000" +
            "0800 0200 0af40100" +
            "0800 0100 0af40100"), bytes);
        Assert.Equal(new AddressInfo(9, IPAddress.Parse("10.244.1.0"), 32), RtnlCodec.DecodeAddress(bytes.AsSpan(16)));
    }

    [Fact]
    public void Error_message_gives_errno_and_extended_ack_text()
    {
        var payload = Hex(
            "efffffff" +                               // -17 EEXIST
            "2c000000 1800 0506 01000000 00000000" +   // echoed header (capped)
            "1a00 0100 4164647265737320616c726561647920657869737473 00 0000"); // NLMSGERR_ATTR_MSG
        var (errno, text) = NetlinkError.Decode(payload, Nl.NLM_F_ACK_TLVS | Nl.NLM_F_CAPPED);
        Assert.Equal(Errnos.EEXIST, errno);
        Assert.Equal("Address already exists", text);
        Assert.Equal((0, (string?)null), NetlinkError.Decode(Hex("00000000 10000000 0000 0000 00000000 00000000"), 0));
    }

    [Fact]
    public void Exception_message_names_operation_errno_text_and_symbol()
    {
        var e = new NetlinkException("add route 10.244.2.0/24 via 10.244.2.0 dev flannel.1", Errnos.EEXIST);
        Assert.Equal("netlink: add route 10.244.2.0/24 via 10.244.2.0 dev flannel.1: File exists (EEXIST)", e.Message);
        Assert.Equal("ESRCH", new NetlinkException("x", Errnos.ESRCH).ErrnoName);
    }

    [Fact]
    public void Truncated_attribute_is_a_format_error()
    {
        var ex = Assert.Throws<FormatException>(() => RtnlCodec.DecodeRoute(Hex("02 18 00 00 fe 46 00 01 00000000 2000 0100 0af4")));
        Assert.Contains("attribute length 32", ex.Message);
    }

    [Fact]
    public void Datagram_reader_walks_aligned_messages()
    {
        var datagram = Hex(
            "14000000 1000 0200 05000000 00000000 01020304" +  // NEWLINK, 4 payload bytes
            "14000000 0300 0200 05000000 00000000 00000000");  // DONE
        var types = new List<(ushort, uint, int)>();
        foreach (var m in new NetlinkMessageReader(datagram)) types.Add((m.Type, m.Seq, m.Payload.Length));
        Assert.Equal([(Rtm.NEWLINK, 5u, 4), (Nl.NLMSG_DONE, 5u, 4)], types);
    }

    [Fact]
    public void Monitor_classifies_notification_types()
    {
        Assert.Equal(new NetlinkChange(NetlinkChangeKind.Route, true, Rtm.DELROUTE), NetlinkMonitor.Classify(Rtm.DELROUTE));
        Assert.Equal(NetlinkChangeKind.Neighbor, NetlinkMonitor.Classify(Rtm.NEWNEIGH)!.Kind);
        Assert.Null(NetlinkMonitor.Classify(Nl.NLMSG_DONE));
    }
}

public class MacAddressTests
{
    [Theory]
    [InlineData("0A:58:0a:F4:01:01", "0a:58:0a:f4:01:01")]
    [InlineData("aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:ff")]
    public void Parses_and_prints_lower_case_colon_form(string text, string expected) =>
        Assert.Equal(expected, MacAddress.Parse(text).ToString());

    [Theory]
    [InlineData("")]
    [InlineData("aa:bb:cc:dd:ee")]
    [InlineData("aa:bb:cc:dd:ee:fg")]
    public void Rejects_malformed(string text) => Assert.False(MacAddress.TryParse(text, out _));

    [Fact]
    public void Random_local_is_unicast_and_locally_administered()
    {
        var b = MacAddress.NewRandomLocal().ToBytes();
        Assert.Equal(0x02, b[0] & 0x03);
    }
}
