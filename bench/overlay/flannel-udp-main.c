// Stand-in for the Go half of flannel's udp backend (backend/udp: cproxy.go, udp_network.go), so that flannel's own C
// data path (backend/udp/proxy_amd64.c, or proxy.c in older releases, taken from a flannel checkout at build time and
// never copied here) can run as a peer of ours on the bench topology: it opens the TUN device the way flannel does
// (IFF_TUN | IFF_NO_PI, no offloads), binds the UDP socket to PUBLIC_IP:8285, hands run_proxy() one route over the
// control socket, and stops it on SIGTERM with CMD_STOP. Address, MTU and routes of the device are set by the caller.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include PROXY_HEADER

static int ctl_writer;

static void on_term(int sig) {
  command stop = { .cmd = CMD_STOP };
  (void)sig;
  if (write(ctl_writer, &stop, sizeof stop) < 0) _exit(1);
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s TUN PUBLIC_IP TUN_IP MTU PEER_SUBNET/LEN PEER_PUBLIC_IP\n", argv[0]);
    return 2;
  }
  int tun = open("/dev/net/tun", O_RDWR);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); return 1; }

  struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(8285) };
  int sock = socket(AF_INET, SOCK_DGRAM, 0);
  if (inet_pton(AF_INET, argv[2], &local.sin_addr) != 1) { fprintf(stderr, "PUBLIC_IP: not an IPv4 address: %s\n", argv[2]); return 2; }
  if (sock < 0 || bind(sock, (struct sockaddr *)&local, sizeof local) < 0) { perror("bind"); return 1; }

  int ctl[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ctl) < 0) { perror("socketpair"); return 1; }
  ctl_writer = ctl[1];

  char subnet[64];
  snprintf(subnet, sizeof subnet, "%s", argv[5]);
  char *slash = strchr(subnet, '/');
  if (!slash) { fprintf(stderr, "PEER_SUBNET: expected a.b.c.d/len: %s\n", argv[5]); return 2; }
  *slash = 0;
  command route = { .cmd = CMD_SET_ROUTE, .dest_net_len = atoi(slash + 1), .next_hop_port = 8285 };
  if (inet_pton(AF_INET, subnet, &route.dest_net) != 1 || inet_pton(AF_INET, argv[6], &route.next_hop_ip) != 1) {
    fprintf(stderr, "PEER_SUBNET or PEER_PUBLIC_IP: not an IPv4 address\n");
    return 2;
  }
  if (write(ctl[1], &route, sizeof route) != sizeof route) { perror("control socket"); return 1; }

  in_addr_t tun_ip;
  if (inet_pton(AF_INET, argv[3], &tun_ip) != 1) { fprintf(stderr, "TUN_IP: not an IPv4 address: %s\n", argv[3]); return 2; }
  signal(SIGTERM, on_term);
  printf("ready\n");
  fflush(stdout);
  run_proxy(tun, sock, ctl[0], tun_ip, (size_t)atoi(argv[4]), 1);
  return 0;
}
