# shellcheck shell=bash
# Registry-free images for the kind node: Debian root filesystems by debootstrap, and
# 'docker save'-format archives (docker-archive) written by hand from cached layers, so
# the component images need no Docker build at all. Each output is named by the hash of
# its inputs and reused while they are unchanged. Sourced after common.sh.

ROOTFS_CACHE="$KIND_CACHE/rootfs"
ARCHIVE_CACHE="$KIND_CACHE/archives"
LAYER_CACHE="$KIND_CACHE/layers"
# Packages of the userland layer that kube-proxy, the network pod and the storage helper
# run on (iptables/ipset/conntrack for the first two, a shell for the helper).
USERLAND_PACKAGES="iptables,ipset,conntrack,iproute2,curl,jq,ca-certificates"

# reproducible_tar DIR OUT: a layer tarball of DIR's contents, owned by root, fixed times.
reproducible_tar() {
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf "$2.tmp.$$" . \
    && mv "$2.tmp.$$" "$2"
}

# debootstrap_tarball NAME INCLUDE: cached tarball of 'debootstrap --variant=minbase
# --include=INCLUDE $NODE_SUITE', trimmed of apt caches and documentation, without /dev
# (device nodes come from the runtime).
debootstrap_tarball() {
  local name="$1" include="$2" hash out rootfs
  hash="$(printf '%s\n%s\n%s\n' "$NODE_SUITE" "$include" "$(declare -f debootstrap_tarball)" | sha256sum | cut -c1-12)"
  out="$ROOTFS_CACHE/$name-$NODE_SUITE-$hash.tar"
  if [[ ! -s "$out" ]]; then
    command -v debootstrap >/dev/null || apt_install debootstrap
    mkdir -p "$ROOTFS_CACHE"
    rootfs="$(mktemp -d /tmp/fte2e-kind-rootfs.XXXXXX)"
    log "debootstrap $NODE_SUITE for $name (+ $include)"
    local t0=$SECONDS
    debootstrap --variant=minbase --include="$include" "$NODE_SUITE" "$rootfs" \
      >"$ROOTFS_CACHE/$name-debootstrap.log" 2>&1 \
      || { rm -rf "$rootfs"; die "debootstrap failed; see $ROOTFS_CACHE/$name-debootstrap.log"; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
           "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
           "$rootfs"/usr/share/locale/* "$rootfs"/dev/*
    reproducible_tar "$rootfs" "$out" || die "packing $rootfs failed"
    rm -rf "$rootfs"
    log "timing: debootstrap $name $((SECONDS - t0))s"
  fi
  echo "$out"
}

node_base_tarball() {
  debootstrap_tarball node-base "$(grep -v '^#' "$KIND_DIR/node/packages.txt" | paste -sd, -)"
}
userland_tarball() { debootstrap_tarball userland "$USERLAND_PACKAGES"; }

# static_layer: what statically linked programs expect to find (a root and a nobody user,
# /tmp, name service order); every component image but kube-proxy starts from it.
static_layer() {
  local out="$LAYER_CACHE/static-$(declare -f static_layer | sha256sum | cut -c1-12).tar"
  if [[ ! -s "$out" ]]; then
    local dir
    dir="$(mktemp -d /tmp/fte2e-kind-layer.XXXXXX)"
    mkdir -p "$dir/etc" "$dir/tmp" "$dir/var/run" && chmod 1777 "$dir/tmp" || die "static layer: mkdir failed"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$dir/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
    printf 'hosts: files dns\n' >"$dir/etc/nsswitch.conf"
    mkdir -p "$LAYER_CACHE" && reproducible_tar "$dir" "$out" || die "static layer: tar failed"
    rm -rf "$dir"
  fi
  echo "$out"
}

# files_layer NAME SRC:DEST[:MODE]...: a layer holding each SRC file at DEST.
files_layer() {
  local name="$1" spec src dest mode hash out dir; shift
  hash="$(for spec in "$@"; do IFS=: read -r src dest mode <<<"$spec"; echo "$dest ${mode:-0755}"; sha256sum <"$src"; done | sha256sum | cut -c1-12)"
  out="$LAYER_CACHE/$name-$hash.tar"
  if [[ ! -s "$out" ]]; then
    dir="$(mktemp -d /tmp/fte2e-kind-layer.XXXXXX)"
    for spec in "$@"; do
      IFS=: read -r src dest mode <<<"$spec"
      install -D -m "${mode:-0755}" "$src" "$dir$dest" || die "layer $name: cannot copy $src"
    done
    mkdir -p "$LAYER_CACHE" && reproducible_tar "$dir" "$out" || die "layer $name: tar failed"
    rm -rf "$dir"
  fi
  echo "$out"
}

# image_archive TAG CONFIG_JSON LAYER_TAR...: a docker-archive of the layers (bottom first)
# with CONFIG_JSON as the image's "config" (Entrypoint, Env, User...); prints its path.
image_archive() {
  local tag="$1" config="$2" layer hash out dir diff_ids=() layer_paths=(); shift 2
  hash="$( (echo "$tag $config"; for layer in "$@"; do echo "$layer"; done) | sha256sum | cut -c1-12)"
  out="$ARCHIVE_CACHE/$(echo "$tag" | tr '/:' '__')-$hash.tar"
  if [[ ! -s "$out" ]]; then
    dir="$(mktemp -d /tmp/fte2e-kind-image.XXXXXX)"
    for layer in "$@"; do
      [[ -s "$layer" ]] || die "image $tag: layer '$layer' missing"
      local sha
      sha="$(sha256sum "$layer" | cut -d' ' -f1)"
      mkdir -p "$dir/$sha"
      ln "$layer" "$dir/$sha/layer.tar" 2>/dev/null || cp "$layer" "$dir/$sha/layer.tar"
      diff_ids+=("sha256:$sha")
      layer_paths+=("$sha/layer.tar")
    done
    local config_json config_sha
    config_json="$(jq -cn --argjson config "$config" --args '{architecture: "amd64", os: "linux", config: $config,
        rootfs: {type: "layers", diff_ids: $ARGS.positional}, history: [{created_by: "finetune e2e/kind"}]}' "${diff_ids[@]}")"
    config_sha="$(printf '%s' "$config_json" | sha256sum | cut -d' ' -f1)"
    printf '%s' "$config_json" >"$dir/$config_sha.json"
    jq -cn --arg config "$config_sha.json" --arg tag "$tag" --args \
      '[{Config: $config, RepoTags: [$tag], Layers: $ARGS.positional}]' "${layer_paths[@]}" >"$dir/manifest.json"
    mkdir -p "$ARCHIVE_CACHE"
    tar -C "$dir" -cf "$out.tmp.$$" . && mv "$out.tmp.$$" "$out" || die "image $tag: writing $out failed"
    rm -rf "$dir"
  fi
  echo "$out"
}
