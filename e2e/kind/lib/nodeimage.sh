# shellcheck shell=bash
# The kind node image, built on the machine (kind's own 'build node-image' fetches images
# from registries, which these machines cannot reach). Sourced after common.sh, tools.sh,
# images.sh and daemon.sh.
#
#   base      local/kind-node-base:<hash>  debootstrap $NODE_SUITE + node/packages.txt
#                                          (systemd, containerd, runc, CNI plugins, iptables...)
#   node      local/kind-node:<k8s>-<hash> base + node/files + kubelet/kubeadm/kubectl/crictl
#                                          + /kind/version + /kind/manifests, and in the
#                                          node's containerd every image kubeadm and the
#                                          manifests use, made by component_archives
#
# What the kind CLI ($KIND_VERSION) reads from a node image (tested by 'kind.sh up', which
# checks each before creating a cluster, see check_node_image_contract): /kind/version
# (one line), /usr/bin/kubeadm, kubelet, kubectl, crictl, ctr, the images already in the
# node's containerd namespace k8s.io, /kind/manifests/default-cni.yaml and
# default-storage.yaml, and the entrypoint's "detected cgroup v1" (or systemd's
# multi-user.target) line.

NODE_IMAGE_REPO="local/kind-node"

k8s_image() { echo "$K8S_IMAGE_REPO/$1:$K8S_VERSION"; }

# component_archives: sets COMPONENT_ARCHIVES to one docker-archive for every image the
# node runs, and NETWORK_IMAGE, LOCAL_PATH_IMAGE, HELPER_IMAGE, PAUSE_IMAGE_REF for the
# manifests.
component_archives() {
  local k8s coredns netpol pause static userland
  k8s="$(k8s_bin_dir)"; coredns="$(coredns_bin_dir)"; netpol="$(netpol_bin_dir)"; pause="$(pause_bin_dir)"
  static="$(static_layer)"
  userland="$(userland_tarball)"
  local path_env='"Env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"]'
  local b
  COMPONENT_ARCHIVES=() COMPONENT_TAGS=()
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    add_archive "$(k8s_image "$b")" "{$path_env, \"Entrypoint\": [\"/usr/local/bin/$b\"]}" \
      "$static" "$(files_layer "$b" "$k8s/$b:/usr/local/bin/$b")"
  done
  add_archive "$(k8s_image kube-proxy)" "{$path_env, \"Entrypoint\": [\"/usr/local/bin/kube-proxy\"]}" \
    "$userland" "$(files_layer kube-proxy "$k8s/kube-proxy:/usr/local/bin/kube-proxy")"
  add_archive "$K8S_IMAGE_REPO/etcd:$ETCD_TAG" "{$path_env, \"Entrypoint\": [\"/usr/local/bin/etcd\"]}" \
    "$static" "$(files_layer etcd "$k8s/etcd:/usr/local/bin/etcd")"
  add_archive "$K8S_IMAGE_REPO/coredns:$COREDNS_TAG" '{"Entrypoint": ["/coredns"]}' \
    "$static" "$(files_layer coredns "$coredns/coredns:/coredns")"
  PAUSE_IMAGE_REF="$K8S_IMAGE_REPO/pause:$PAUSE_TAG"
  add_archive "$PAUSE_IMAGE_REF" '{"Entrypoint": ["/pause"], "User": "65535:65535"}' \
    "$static" "$(files_layer pause "$pause/pause:/pause")"
  local network_layer
  network_layer="$(files_layer kind-network "$netpol/netpol:/usr/local/bin/netpol" \
    "$KIND_DIR/images/network/entrypoint.sh:/usr/local/bin/kind-network")"
  NETWORK_IMAGE="local/kind-network:$(basename "$network_layer" .tar | sed 's/^kind-network-//')"
  add_archive "$NETWORK_IMAGE" "{$path_env, \"Entrypoint\": [\"/usr/local/bin/kind-network\"]}" \
    "$userland" "$network_layer"
  local lp_layer
  lp_layer="$(files_layer local-path "$(local_path_bin):/usr/local/bin/local-path-provisioner")"
  LOCAL_PATH_IMAGE="local/kind-local-path-provisioner:$LOCAL_PATH_VERSION-$(basename "$lp_layer" .tar | sed 's/^local-path-//')"
  add_archive "$LOCAL_PATH_IMAGE" '{"Entrypoint": ["/usr/local/bin/local-path-provisioner"]}' "$static" "$lp_layer"
  HELPER_IMAGE="local/kind-userland:$(basename "$userland" .tar | sed 's/^userland-//')"
  add_archive "$HELPER_IMAGE" "{$path_env}" "$userland"
}

add_archive() {
  COMPONENT_ARCHIVES+=("$(image_archive "$@")") || die "making the image archive $1 failed"
  COMPONENT_TAGS+=("$1")
}

# node_image_tag: the node image's name, a hash of everything that goes into it.
node_image_tag() {
  local inputs
  inputs="$(
    echo "$K8S_VERSION $KIND_VERSION $NODE_SUITE $PAUSE_TAG $COREDNS_TAG $ETCD_TAG"
    basename "$(k8s_bin_dir)"; basename "$(coredns_bin_dir)"; basename "$(netpol_bin_dir)"
    basename "$(pause_bin_dir)"; basename "$(go_tool_dir crictl "$CRICTL_VERSION")"
    echo "$LOCAL_PATH_VERSION $USERLAND_PACKAGES"
    content_hash "$KIND_DIR/node" "$KIND_DIR/images" "$KIND_LIB_DIR/nodeimage.sh" "$KIND_LIB_DIR/images.sh"
    go version
  )"
  echo "$NODE_IMAGE_REPO:$K8S_VERSION-$(sha256sum <<<"$inputs" | cut -c1-12)"
}

# ensure_base_image: the debootstrap'ed node base, imported into the kind daemon.
ensure_base_image() {
  local tarball tag
  tarball="$(node_base_tarball)"
  tag="local/kind-node-base:$(basename "$tarball" .tar | sed 's/^node-base-//')"
  if ! kd image inspect "$tag" >/dev/null 2>&1; then
    log "docker import -> $tag (kind daemon)"
    kd import "$tarball" "$tag" >/dev/null || die "docker import of $tarball failed"
  fi
  echo "$tag"
}

# stage_node_files DIR: the files the node image adds to its base, versions filled in.
stage_node_files() {
  local dir="$1" k8s
  k8s="$(k8s_bin_dir)"
  mkdir -p "$dir/rootfs/usr/bin" "$dir/rootfs/kind/manifests"
  cp -a "$KIND_DIR/node/files/." "$dir/rootfs/"
  install -m 0755 "$k8s/kubelet" "$k8s/kubeadm" "$k8s/kubectl" "$(crictl_bin)" "$dir/rootfs/usr/bin/"
  echo "$K8S_VERSION" >"$dir/rootfs/kind/version"
  local f
  for f in etc/containerd/config.toml; do
    sed -i "s|@PAUSE_IMAGE@|$PAUSE_IMAGE_REF|" "$dir/rootfs/$f"
  done
  for f in default-cni.yaml default-storage.yaml; do
    sed -e "s|@NETWORK_IMAGE@|$NETWORK_IMAGE|" -e "s|@LOCAL_PATH_IMAGE@|$LOCAL_PATH_IMAGE|" \
        -e "s|@HELPER_IMAGE@|$HELPER_IMAGE|" "$KIND_DIR/node/manifests/$f" >"$dir/rootfs/kind/manifests/$f"
  done
  cat >"$dir/Dockerfile" <<EOF
FROM $2
COPY rootfs/ /
# Services a container does not need or cannot run (no kernel modules, consoles, udev);
# containerd and kubelet at boot; Debian's CNI plugins where kubelet and kind look for them;
# containerd's base OCI spec without rlimits (the runtime's defaults are too low for JVMs).
RUN set -e; \\
    rm -f /etc/systemd/system/*.wants/* /lib/systemd/system/multi-user.target.wants/*; \\
    systemctl mask systemd-modules-load.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \\
      getty.target console-getty.service systemd-firstboot.service systemd-pstore.service \\
      systemd-tpm2-setup-early.service systemd-tpm2-setup.service systemd-pcrmachine.service \\
      systemd-pcrphase-sysinit.service systemd-pcrphase.service sys-kernel-debug.mount \\
      sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount >/dev/null 2>&1; \\
    systemctl enable containerd.service kubelet.service >/dev/null 2>&1; \\
    mkdir -p /etc/systemd/system/containerd.service.d /etc/kubernetes/manifests /etc/cni/net.d /opt/cni; \\
    printf '[Service]\n# lowering oom_score_adj needs CAP_SYS_RESOURCE, which the sandbox withholds\nOOMScoreAdjust=0\n' \\
      >/etc/systemd/system/containerd.service.d/10-kind.conf; \\
    ln -sfn /usr/lib/cni /opt/cni/bin; \\
    ctr oci spec | jq 'del(.process.rlimits)' >/etc/containerd/cri-base.json; \\
    echo ReadKMsg=no >>/etc/systemd/journald.conf; \\
    ln -sf /lib/systemd/systemd /sbin/init
# systemd inside a container: it reads \$container, and stops on SIGRTMIN+3.
ENV container=docker
STOPSIGNAL SIGRTMIN+3
EOF
}

# import_archives CONTAINER ARCHIVE...: starts containerd in CONTAINER (a privileged build
# container of the staged node image) and imports every archive into its k8s.io
# namespace, pinned and not unpacked (containerd unpacks on first use, in the node).
import_archives() {
  local c="$1" a; shift
  kd exec "$c" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &' || die "starting containerd in $c failed"
  local i
  for i in $(seq 1 30); do kd exec "$c" ctr version >/dev/null 2>&1 && break; sleep 1; done
  for a in "$@"; do
    kd exec -i "$c" ctr -n k8s.io images import --label io.cri-containerd.pinned=pinned \
      --all-platforms --no-unpack - <"$a" >/dev/null \
      || { kd exec "$c" tail -n 20 /tmp/containerd.log >&2; die "importing $a into the node image failed"; }
  done
  local present missing=()
  present="$(kd exec "$c" ctr -n k8s.io images ls -q)" || die "listing the node image's images failed"
  for a in "${COMPONENT_TAGS[@]}"; do
    # containerd stores short names in their fully qualified form (<default registry>/local/...)
    grep -qx -e "$a" -e "[^/]*/$a" <<<"$present" || missing+=("$a")
  done
  ((${#missing[@]} == 0)) || die "not in the node image's containerd after import: ${missing[*]}"
  kd exec "$c" pkill containerd
  for i in $(seq 1 30); do kd exec "$c" pgrep containerd >/dev/null 2>&1 || break; sleep 1; done
}

# ensure_node_image: builds the node image into the kind daemon unless it is there; prints its tag.
ensure_node_image() {
  local tag
  tag="$(node_image_tag)"
  if kd image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag"
    return 0
  fi
  local t0=$SECONDS base dir staged c
  base="$(ensure_base_image)"
  component_archives
  dir="$(mktemp -d /tmp/fte2e-kind-node.XXXXXX)"
  stage_node_files "$dir" "$base" || die "staging the node image's files failed"
  staged="$tag-staged"
  log "building $tag (kind daemon)"
  local out
  # (quiet unless it fails: Debian's Docker prints a legacy-builder notice on every build)
  out="$(kd build -q -t "$staged" "$dir" 2>&1)" \
    || { printf '%s\n' "$out" | tail -n 30 >&2; rm -rf "$dir"; die "docker build of the node image failed"; }
  rm -rf "$dir"
  c="kind-node-build-$$"
  kd run -d --name "$c" --privileged --entrypoint sleep "$staged" infinity >/dev/null \
    || die "starting the node image build container failed"
  import_archives "$c" "${COMPONENT_ARCHIVES[@]}"
  kd commit \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    --change 'CMD []' \
    "$c" "$tag" >/dev/null || { kd rm -f "$c" >/dev/null; die "docker commit of $tag failed"; }
  kd rm -f "$c" >/dev/null
  kd rmi "$staged" >/dev/null 2>&1 || true
  log "timing: node image $((SECONDS - t0))s -> $tag"
  prune_node_images "$tag" "$base"
  echo "$tag"
}

# prune_node_images KEEP...: removes older node and base images (about 1 GB each); those a
# cluster still runs on stay (docker refuses to remove them).
prune_node_images() {
  local keep=" $* " image
  for image in $(kd images --format '{{.Repository}}:{{.Tag}}' | grep -E "^($NODE_IMAGE_REPO|local/kind-node-base):"); do
    [[ "$keep" == *" $image "* ]] && continue
    kd rmi "$image" >/dev/null 2>&1 && log "removed the older node image $image" || true
  done
}
