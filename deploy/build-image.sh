#!/usr/bin/env bash
# Builds the flanneld image here, with no registry pull and no Docker engine: buildah, FROM scratch.
#   base layer: the Debian packages the agent needs at run time (glibc, libstdc++, OpenSSL for the agents' mutual TLS,
#               iptables and nftables for --ip-masq, busybox for the init containers' /bin/sh, cp, mv, chmod), unpacked
#               from their .debs (a debootstrap minbase is ~200 MiB; this is ~25). Cached by the package versions.
#   app layer:  the published NativeAOT flanneld (with hocon/) and the native `flannel` CNI plugin under /opt/flannel, with the ENV
#               and ENTRYPOINT lines of deploy/Dockerfile (one source of truth: `docker build` yields the same layout).
# Writes artifacts/image/flanneld.oci.tar (OCI archive: `ctr -n k8s.io images import`, `kind load image-archive`,
# `skopeo copy oci-archive:...`) and flanneld.docker.tar (`docker load`), leaves the image in podman's store and
# prints sizes. Env: FLANNEL_IMAGE (name), FLANNEL_IMAGE_CACHE (default artifacts/image-cache).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
image="${FLANNEL_IMAGE:-$(awk '/^ *image:/{print $2; exit}' "$root/deploy/kube-flannel.yml")}"
cache="${FLANNEL_IMAGE_CACHE:-$root/artifacts/image-cache}"
out="$root/artifacts/image"
start=$SECONDS
if [ "$(id -u)" != 0 ]; then echo "build-image: run as root (buildah's storage is the system one podman reads)" >&2; exit 1; fi
for t in buildah dpkg-deb apt-get ldconfig; do
  command -v "$t" >/dev/null || { echo "build-image: $t is missing (scripts/prereqs.sh installs it)" >&2; exit 1; }
done
# The packages' own dependency closure is computed by apt; these are the roots.
roots=(libc6 libgcc-s1 libstdc++6 libssl3 zlib1g iptables nftables busybox-static)
mkdir -p "$cache/debs" "$out"

# 1. The base layer, rebuilt only when a package version changes.
mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances "${roots[@]}" | grep -v '^ ' | grep -v '^<' | sort -u)
versions=()
for p in "${pkgs[@]}"; do versions+=("$p=$(apt-cache policy "$p" | awk '/Candidate:/{print $2}')"); done
key=$(printf '%s\n' "${versions[@]}" "$(sha256sum "$0" | cut -c1-16)" | sha256sum | cut -c1-16)
base="localhost/flannel-base:$key"
if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  echo "build-image: base layer $key (${#pkgs[@]} packages)" >&2
  (cd "$cache/debs" && apt-get download -qq "${versions[@]}" >/dev/null 2>&1) || {
    echo "build-image: apt-get download failed; try apt-get update" >&2
    (cd "$cache/debs" && apt-get download "${versions[@]}") >&2
    exit 1
  }
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  # Debian's merged /usr: the symlinks usrmerge would make, kept while the packages unpack into them.
  mkdir -p "$rootfs"/usr/{bin,sbin,lib,lib64} "$rootfs"/{etc,tmp,run,var/lib,var/run,opt/flannel}
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$rootfs/$d"; done
  chmod 1777 "$rootfs/tmp"
  for v in "${versions[@]}"; do
    p=${v%%=*}; ver=${v#*=}; ver=${ver//:/%3a}
    deb=$(ls "$cache/debs/${p}_${ver}_"*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { echo "build-image: no .deb for $v in $cache/debs" >&2; exit 1; }
    dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$rootfs"
  done
  # What the maintainer scripts would do: the alternatives (nft-based iptables, as Debian's default) and busybox applets.
  for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf xtables-nft-multi "$rootfs/usr/sbin/$t"
  done
  for a in sh cp mv chmod cat ls mkdir rm ln sleep echo test env; do ln -sf busybox "$rootfs/usr/bin/$a"; done
  [ -f /etc/ssl/certs/ca-certificates.crt ] && install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  # Nothing here runs at run time: documentation, translations, glibc's iconv modules (.NET runs with invariant
  # globalization), the packages' own bookkeeping.
  rm -rf "$rootfs"/usr/share/{doc,man,info,locale,lintian,bug,bash-completion,zsh} "$rootfs"/usr/lib/x86_64-linux-gnu/gconv \
         "$rootfs"/usr/share/nftables "$rootfs"/usr/lib/x86_64-linux-gnu/audit
  ldconfig -r "$rootfs"
  tar -C "$rootfs" --numeric-owner -cf "$cache/base-$key.tar" .
  ctr=$(buildah from --quiet scratch)
  buildah add --quiet "$ctr" "$cache/base-$key.tar" / >/dev/null
  buildah commit --quiet --rm "$ctr" "$base" >/dev/null
  rm -rf "$rootfs" "$cache/base-$key.tar"
  trap - EXIT
  # Older bases (other package versions or another version of this script) are not used again.
  for old in $(buildah images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/flannel-base:' | grep -v ":$key$" || true); do
    buildah rmi "$old" >/dev/null 2>&1 || echo "build-image: $old is still in use; left in the store" >&2
  done
fi

# 2. The app layer: flanneld as the Dockerfile publishes it, and the native CNI plugin (scripts/cni-plugin.sh).
echo "build-image: publishing flanneld (NativeAOT, ~3 min)" >&2
rm -rf "$out/flanneld"
"$root/deploy/publish-flanneld.sh" "$out/flanneld"
# test.sh and demo.sh have published it already (FLANNEL_CNI_PLUGIN).
plugin="${FLANNEL_CNI_PLUGIN:-$("$root/scripts/cni-plugin.sh")}"
previous=$(buildah inspect --type image --format '{{.FromImageID}}' "$image" 2>/dev/null || true)
ctr=$(buildah from --quiet "$base")
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah copy --quiet "$ctr" "$out/flanneld/" /opt/flannel/ >/dev/null
buildah copy --quiet --chmod 0755 "$ctr" "$plugin" /opt/flannel/flannel >/dev/null
cfg=()
while read -r kv; do cfg+=(--env "$kv"); done < <(awk '/^FROM .* AS runtime/{r=1} r && /^ENV /{print $2}' "$root/deploy/Dockerfile")
entry=$(awk '/^FROM .* AS runtime/{r=1} r && /^ENTRYPOINT /{sub(/^ENTRYPOINT /,""); print}' "$root/deploy/Dockerfile")
buildah config "${cfg[@]}" --entrypoint "$entry" --cmd '' --workingdir / \
  --label org.opencontainers.image.source=flannel-net --label org.opencontainers.image.title=flanneld "$ctr"
buildah commit --quiet --rm "$ctr" "$image" >/dev/null
trap - EXIT
# The image this one replaces (now untagged) would stay in the store at ~115 MiB a build.
if [ -n "$previous" ] && [ "$previous" != "$(buildah inspect --type image --format '{{.FromImageID}}' "$image")" ]; then
  buildah rmi "$previous" >/dev/null 2>&1 || echo "build-image: the previous image ${previous:0:12} is still in use; left in the store" >&2
fi

# 3. Archives for other runtimes, and the sizes.
rm -f "$out/flanneld.oci.tar" "$out/flanneld.docker.tar"
buildah push --quiet "$image" "oci-archive:$out/flanneld.oci.tar:$image" >/dev/null
buildah push --quiet "$image" "docker-archive:$out/flanneld.docker.tar:$image" >/dev/null
size=$(podman image inspect --format "{{.Size}}" "$image")
gz=$(gzip -c -1 "$out/flanneld.oci.tar" | wc -c)
mib() { awk -v b="$1" 'BEGIN{printf "%.1f MiB", b/1048576}'; }
echo "build-image: $image: $(mib "$size") uncompressed, $(mib "$gz") gzip-compressed; $out/flanneld.oci.tar, $out/flanneld.docker.tar ($((SECONDS - start)) s)"
