// flannel's udp wire format (an IPv4 packet as the whole payload of a UDP datagram, port 8285 both ways) in TC-BPF.
// Two programs, loaded by BpfUdpPath.cs (own ELF loader; no libbpf, so the maps use the classic "maps" section and
// every function is inlined: no BTF, no global data, no bpf-to-bpf calls):
//   udp_egress  on flannel0 (TCX egress): inner packets for a peer that decapsulates in BPF get the outer IPv4+UDP
//               header and go to the underlay through bpf_redirect_neigh. Everything else (unknown destination, TTL
//               expiring, fragments, options, a peer on a socket receiver) passes to the TUN, i.e. the user-space path,
//               which answers with ICMP and completes checksums/segments offloaded packets.
//   udp_ingress on the underlay (TCX ingress): a datagram to our address and port from a known peer is checked as
//               InnerAddressCheck does (inner destination in our lease, inner source in the sender's subnets) and
//               decapsulated into flannel0's receive path; anything else passes on untouched to the user-space socket.
// Only uapi headers are used; constants newer than Debian 12's headers are defined here.
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#define SEC(name) __attribute__((section(name), used))
#define INLINE static __attribute__((always_inline)) inline

// Helper ids from include/uapi/linux/bpf.h (stable ABI numbers).
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_skb_store_bytes)(struct __sk_buff *skb, __u32 offset, const void *from, __u32 len, __u64 flags) = (void *)9;
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)23;
static long (*bpf_csum_diff)(__be32 *from, __u32 from_size, __be32 *to, __u32 to_size, __wsum seed) = (void *)28;
static long (*bpf_skb_change_head)(struct __sk_buff *skb, __u32 len, __u64 flags) = (void *)43;
static long (*bpf_skb_pull_data)(struct __sk_buff *skb, __u32 len) = (void *)39;
static long (*bpf_skb_adjust_room)(struct __sk_buff *skb, __s32 len_diff, __u32 mode, __u64 flags) = (void *)50;
static long (*bpf_redirect_neigh)(__u32 ifindex, void *params, int plen, __u64 flags) = (void *)152;

// The encap flags come from the uapi header by name: a hand-written (1 << 3) here was BPF_F_ADJ_ROOM_ENCAP_L4_GRE, which
// marked every encapsulated GSO super-packet as GRE, so its GSO validation on the underlay failed and it was freed in
// validate_xmit_skb (bench/overlay/RESULTS.md, 2026-12-01). Only the decap flag is newer than Debian 12's headers.
// FIXED_GSO on both sides: a TCP super-packet keeps its MSS through encap and decap. Each segment plus our 28 bytes
// fits the underlay MTU (flannel0's MTU is the underlay's minus 28), so a device that segments after the encap sends
// full-size datagrams. Both sides must agree: with FIXED_GSO on the sender only, a super-packet that crossed a veth
// whole came out of the receiver's decap with an MSS 28 bytes above the pod's MTU and ip_forward dropped it
// (PKT_TOO_BIG).
#define ENCAP_FLAGS (BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP)
#define DECAP_FLAGS (BPF_F_ADJ_ROOM_FIXED_GSO | (1ULL << 7)) /* BPF_F_ADJ_ROOM_DECAP_L3_IPV4 */
#define F_INGRESS 1
#define TCP_PROTO 6

#define UDP_PROTO 17
#define BE16(x) __builtin_bswap16(x)
#define BE32(x) __builtin_bswap32(x)

// The map layout the loader reads (5 u32, as iproute2's old struct bpf_elf_map starts).
struct map_def {
	__u32 type, key_size, value_size, max_entries, map_flags;
};

struct lpm_key {
	__u32 prefixlen;
	__be32 addr;
};

#define PEER_DECAPS_IN_BPF 1
struct peer {
	__be32 public_ip;
	__u32 flags;
};

struct config {
	__be32 local_ip;      // outer source, and the only outer destination we decapsulate
	__be32 lease_net;     // inner destinations must be inside it
	__be32 lease_mask;
	__u32 underlay_ifindex;
	__u32 tun_ifindex;
	__be16 port;
	__u16 ready;          // 0 until the loader wrote the config: everything passes
	__u32 flags;          // CFG_* below
};

// TCP super-packets go through the encapsulation whole (UDP-tunnel GSO) instead of to the TUN path. Off by default
// (BpfUdpPath.TcpGsoInKernel says why: on kernel 6.18 the receiver cannot clear the tunnel GSO state after the decap).
#define CFG_TCP_GSO 1

// Counter indices: keep in sync with BpfCounter in BpfCounters.cs.
enum {
	C_TX_PACKETS, C_TX_BYTES, C_RX_PACKETS, C_RX_BYTES,
	C_FB_NO_PEER, C_FB_TTL, C_FB_FRAGMENT, C_FB_OPTIONS, C_FB_NOT_IPV4, C_FB_PEER_SOCKET, C_FB_ERROR,
	C_PASS_STRANGER, C_PASS_MALFORMED, C_PASS_FRAGMENT, C_PASS_ERROR,
	C_DROP_FOREIGN_SOURCE, C_DROP_FOREIGN_DESTINATION, C_PASS_DATAGRAM_BATCH, C_FB_GSO,
	C_COUNT
};

struct map_def peers SEC("maps") = { BPF_MAP_TYPE_LPM_TRIE, sizeof(struct lpm_key), sizeof(struct peer), 8192, BPF_F_NO_PREALLOC };
struct map_def peer_ips SEC("maps") = { BPF_MAP_TYPE_HASH, sizeof(__be32), sizeof(__u32), 8192, 0 };
struct map_def config SEC("maps") = { BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct config), 1, 0 };
struct map_def counters SEC("maps") = { BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64), C_COUNT, 0 };

INLINE void count(__u32 index, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &index);
	if (c) *c += n;
}

INLINE int fallback(__u32 reason)
{
	count(reason, 1);
	return TC_ACT_OK;
}

INLINE struct config *get_config(void)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	return cfg && cfg->ready ? cfg : 0;
}

INLINE struct peer *lookup_peer(__be32 addr)
{
	struct lpm_key key = { 32, addr };
	return bpf_map_lookup_elem(&peers, &key);
}

INLINE __u16 fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

struct outer {
	struct iphdr ip;
	struct udphdr udp;
};

SEC("tc/egress")
int udp_egress(struct __sk_buff *skb)
{
	struct config *cfg = get_config();
	if (!cfg) return TC_ACT_OK;
	if (skb->protocol != BE16(ETH_P_IP)) return fallback(C_FB_NOT_IPV4);
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;
	if ((void *)(ip + 1) > end) {
		if (bpf_skb_pull_data(skb, sizeof(*ip))) return fallback(C_FB_ERROR);
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		ip = data;
		if ((void *)(ip + 1) > end) return fallback(C_FB_ERROR);
	}
	if (ip->version != 4) return fallback(C_FB_NOT_IPV4);
	if (ip->ihl != 5) return fallback(C_FB_OPTIONS);
	if (ip->frag_off & BE16(0x3fff)) return fallback(C_FB_FRAGMENT);
	struct peer *p = lookup_peer(ip->daddr);
	if (!p) return fallback(C_FB_NO_PEER);
	// A socket receiver (our TUN path, flannel's proxy) reads the payload as bytes: offloaded packets (inner checksum
	// still partial, GSO super-packets) must be completed first, which the user-space path does.
	if (!(p->flags & PEER_DECAPS_IN_BPF)) return fallback(C_FB_PEER_SOCKET);
	// With CFG_TCP_GSO, TCP super-packets (TSO/GSO) leave as one UDP-tunnel GSO packet: the underlay (or the stack,
	// in software) segments them after the encapsulation, as for vxlan. Without it, and for other GSO kinds (a pod's
	// UDP_SEGMENT sends, not measured through the encapsulation), the user-space path segments them itself.
	if (skb->gso_size && (ip->protocol != TCP_PROTO || !(cfg->flags & CFG_TCP_GSO))) return fallback(C_FB_GSO);
	// As the TUN path: the packet must survive one more hop (the TUN path drops it and counts ttl_expired).
	if (ip->ttl <= 1) return fallback(C_FB_TTL);
	__be32 remote = p->public_ip;
	__u32 sum = (__u32)BE16(ip->check) + 0x0100;
	ip->ttl--;
	ip->check = BE16((__u16)((sum & 0xffff) + (sum >> 16)));

	__u32 inner_len = skb->len;
	__u32 segs = skb->gso_segs ? skb->gso_segs : 1;
	if (bpf_skb_adjust_room(skb, sizeof(struct outer), BPF_ADJ_ROOM_MAC, ENCAP_FLAGS))
		return fallback(C_FB_ERROR);
	__u32 total = inner_len + sizeof(struct outer);
	struct outer h = {};
	h.ip.version = 4;
	h.ip.ihl = 5;
	// A GSO super-packet's outer lengths are rewritten per segment by the kernel; only keep the field in range.
	h.ip.tot_len = BE16(total > 0xffff ? 0xffff : total);
	h.ip.frag_off = BE16(0x4000);
	h.ip.ttl = 64;
	h.ip.protocol = UDP_PROTO;
	h.ip.saddr = cfg->local_ip;
	h.ip.daddr = remote;
	h.ip.check = ~fold(bpf_csum_diff(0, 0, (__be32 *)&h.ip, sizeof(h.ip), 0));
	h.udp.source = cfg->port;
	h.udp.dest = cfg->port;
	h.udp.len = BE16(total - sizeof(struct iphdr) > 0xffff ? 0xffff : total - sizeof(struct iphdr));
	if (bpf_skb_store_bytes(skb, 0, &h, sizeof(h), 0)) return TC_ACT_SHOT;
	// bpf_redirect_neigh drops a packet without an Ethernet header (every packet of an L3 device): push a placeholder;
	// the neighbour subsystem writes the real addresses.
	if (bpf_skb_change_head(skb, ETH_HLEN, 0)) return TC_ACT_SHOT;
	struct ethhdr eth = { .h_dest = { 2, 0, 0, 0, 0, 1 }, .h_proto = BE16(ETH_P_IP) };
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0)) return TC_ACT_SHOT;
	count(C_TX_PACKETS, segs);
	count(C_TX_BYTES, inner_len);
	return bpf_redirect_neigh(cfg->underlay_ifindex, 0, 0, 0);
}

#define INGRESS_NEED (ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) + sizeof(struct iphdr))

SEC("tc/ingress")
int udp_ingress(struct __sk_buff *skb)
{
	if (skb->protocol != BE16(ETH_P_IP)) return TC_ACT_OK;
	struct config *cfg = get_config();
	if (!cfg) return TC_ACT_OK;
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (data + INGRESS_NEED > end) {
		if (skb->len < INGRESS_NEED || bpf_skb_pull_data(skb, INGRESS_NEED)) return TC_ACT_OK;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		if (data + INGRESS_NEED > end) return TC_ACT_OK;
	}
	struct ethhdr *eth = data;
	if (eth->h_proto != BE16(ETH_P_IP)) return TC_ACT_OK;
	struct iphdr *ip = (void *)(eth + 1);
	if (ip->version != 4 || ip->ihl != 5 || ip->protocol != UDP_PROTO || ip->daddr != cfg->local_ip) return TC_ACT_OK;
	struct udphdr *udp = (void *)(ip + 1);
	if (udp->dest != cfg->port) return TC_ACT_OK;
	// Ours from here on: what is not decapsulated is counted and left to the socket, which counts it again.
	if (ip->frag_off & BE16(0x3fff)) return fallback(C_PASS_FRAGMENT);
	if (!bpf_map_lookup_elem(&peer_ips, &ip->saddr)) return fallback(C_PASS_STRANGER);
	struct iphdr *inner = (void *)(udp + 1);
	if (inner->version != 4 || inner->ihl < 5) return fallback(C_PASS_MALFORMED);
	// One skb, one inner packet: a batch of datagrams a socket sent with UDP_SEGMENT (our TUN path) crosses a veth as
	// one skb whose first inner packet is shorter than the skb; the socket (UDP_GRO) splits it.
	if (BE16(inner->tot_len) != skb->len - (INGRESS_NEED - sizeof(struct iphdr))) return fallback(C_PASS_DATAGRAM_BATCH);
	if ((inner->daddr & cfg->lease_mask) != cfg->lease_net) {
		count(C_DROP_FOREIGN_DESTINATION, 1);
		return TC_ACT_SHOT;
	}
	struct peer *owner = lookup_peer(inner->saddr);
	if (!owner || owner->public_ip != ip->saddr) {
		count(C_DROP_FOREIGN_SOURCE, 1);
		return TC_ACT_SHOT;
	}
	__u32 segs = skb->gso_segs ? skb->gso_segs : 1;
	__u32 inner_len = skb->len - (INGRESS_NEED - sizeof(struct iphdr));
	if (bpf_skb_adjust_room(skb, -(__s32)sizeof(struct outer), BPF_ADJ_ROOM_MAC, DECAP_FLAGS))
		return fallback(C_PASS_ERROR);
	count(C_RX_PACKETS, segs);
	count(C_RX_BYTES, inner_len);
	// Received on flannel0, as the TUN path delivers: reverse-path filtering and the FORWARD rules see the same device.
	return bpf_redirect(cfg->tun_ifindex, F_INGRESS);
}

char _license[] SEC("license") = "Dual MIT/GPL";
