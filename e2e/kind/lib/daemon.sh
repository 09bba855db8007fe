# shellcheck shell=bash
# The dedicated Docker daemon kind runs its nodes in. Sourced after common.sh.
#
# Its own --data-root, --exec-root, socket, containerd namespace and docker network, its own
# default bridge (never "none": see ensure_kind_default_bridge) and no iptables management
# (two dockerds managing the same DOCKER chains would fight), so it never touches the
# machine's default daemon. Its default runtime is
# runc-nosysres (see that file): kind's privileged node containers and 'docker exec
# --privileged' start although the sandbox withholds CAP_SYS_RESOURCE. One daemon serves
# every kind cluster on the machine.

# installed_wrapper: the runtime wrapper copied under the cache, named by its content, so
# that the daemon never depends on a checkout that may move or change under it.
installed_wrapper() {
  local dest
  dest="$KIND_CACHE/bin/runc-nosysres-$(content_hash "$KIND_RUNTIME_WRAPPER")"
  if [[ ! -x "$dest" ]]; then
    mkdir -p "$(dirname "$dest")"
    install -m 0755 "$KIND_RUNTIME_WRAPPER" "$dest.tmp.$$" && mv "$dest.tmp.$$" "$dest"
  fi
  echo "$dest"
}

kind_daemon_running() {
  [[ -f "$KIND_DOCKER_PIDFILE" ]] && kill -0 "$(cat "$KIND_DOCKER_PIDFILE")" 2>/dev/null \
    && kd info >/dev/null 2>&1
}

# ensure_kind_daemon: starts the daemon unless it runs, then makes sure of its network.
ensure_kind_daemon() {
  command -v dockerd >/dev/null || apt_install docker.io
  command -v jq >/dev/null || apt_install jq
  exec 8>/run/lock/finetune-kind-daemon.lock
  flock -w 120 8 || die "another kind.sh is starting the kind Docker daemon (/run/lock/finetune-kind-daemon.lock)"
  if ! kind_daemon_running; then
    start_kind_daemon
  fi
  ensure_kind_network
  exec 8>&-
}

# The kind daemon's default bridge network sits on a bridge of its own, made here, not on "none": a dockerd started
# with --bridge none deletes the interface docker0 (to clean up after "an older daemon"), i.e. the bridge of the
# machine's default daemon, whose containers and `docker build` RUN steps then fail with "could not find bridge
# docker0". Nothing is attached to this bridge (kind uses the network $KIND_NETWORK).
KIND_DEFAULT_BRIDGE="ftkinddflt0"
KIND_DEFAULT_BRIDGE_ADDRESS="10.254.254.1/30"

ensure_kind_default_bridge() {
  if ! ip link show "$KIND_DEFAULT_BRIDGE" >/dev/null 2>&1; then
    ip link add "$KIND_DEFAULT_BRIDGE" type bridge || die "cannot create the bridge $KIND_DEFAULT_BRIDGE"
  fi
  ip -4 addr show dev "$KIND_DEFAULT_BRIDGE" | grep -q "inet $KIND_DEFAULT_BRIDGE_ADDRESS " \
    || ip addr add "$KIND_DEFAULT_BRIDGE_ADDRESS" dev "$KIND_DEFAULT_BRIDGE"
  ip link set "$KIND_DEFAULT_BRIDGE" up
}

start_kind_daemon() {
  local wrapper
  wrapper="$(installed_wrapper)"
  ensure_kind_default_bridge
  mkdir -p "$KIND_DOCKER_ROOT" "$KIND_DOCKER_RUN" "$(dirname "$KIND_DOCKER_LOG")"
  # An empty configuration file: /etc/docker/daemon.json belongs to the default daemon.
  echo '{}' >"$KIND_DOCKER_RUN/daemon.json"
  rm -f "$KIND_DOCKER_SOCK"
  log "starting the kind Docker daemon (socket $KIND_DOCKER_SOCK, runtime $wrapper, log $KIND_DOCKER_LOG)"
  # 9>&- 8>&- 7>&-: the daemon must not inherit kind.sh's lock descriptors (the build lock on 7 would stay held
  # for the daemon's lifetime, and the next "up" would wait an hour for it).
  setsid nohup dockerd \
    --config-file "$KIND_DOCKER_RUN/daemon.json" \
    --data-root "$KIND_DOCKER_ROOT" \
    --exec-root "$KIND_DOCKER_RUN/exec" \
    --pidfile "$KIND_DOCKER_PIDFILE" \
    --host "$KIND_DOCKER_HOST" \
    --containerd-namespace finetune-kind \
    --containerd-plugins-namespace finetune-kind-plugins \
    --bridge "$KIND_DEFAULT_BRIDGE" --iptables=false --ip-masq=false \
    --add-runtime "nosysres=$wrapper" --default-runtime nosysres \
    >>"$KIND_DOCKER_LOG" 2>&1 </dev/null 9>&- 8>&- 7>&- &
  wait_for 60 "the kind Docker daemon to answer" kd info \
    || { tail -n 20 "$KIND_DOCKER_LOG" >&2; die "the kind Docker daemon did not start; see $KIND_DOCKER_LOG"; }
}

# ensure_kind_network: the bridge network 'kind' with a fixed bridge name and subnet (IPv4
# only), and host FORWARD rules that let node containers talk to each other over it even
# where the host filters bridged traffic (br_netfilter with a DROP policy).
ensure_kind_network() {
  if ! kd network inspect "$KIND_NETWORK" >/dev/null 2>&1; then
    log "creating docker network $KIND_NETWORK ($KIND_SUBNET on bridge $KIND_BRIDGE)"
    kd network create --driver bridge --subnet "$KIND_SUBNET" \
      -o "com.docker.network.bridge.name=$KIND_BRIDGE" \
      -o com.docker.network.bridge.enable_ip_masquerade=false \
      -o com.docker.network.driver.mtu=1500 "$KIND_NETWORK" >/dev/null \
      || die "creating the docker network $KIND_NETWORK failed (subnet $KIND_SUBNET taken?)"
  fi
  local dir
  for dir in -i -o; do
    iptables -C FORWARD "$dir" "$KIND_BRIDGE" -j ACCEPT 2>/dev/null \
      || iptables -I FORWARD 1 "$dir" "$KIND_BRIDGE" -j ACCEPT
  done
}

# stop_kind_daemon: stops the daemon (and so every kind node container; kind restarts
# them when the daemon starts again). Images and the build cache stay.
stop_kind_daemon() {
  if ! [[ -f "$KIND_DOCKER_PIDFILE" ]] || ! kill -0 "$(cat "$KIND_DOCKER_PIDFILE")" 2>/dev/null; then
    log "the kind Docker daemon is not running"
    return 0
  fi
  local running pid i
  running="$(kd ps --format '{{.Names}}' 2>/dev/null | paste -sd' ' || true)"
  [[ -n "$running" ]] && log "stopping with it: $running"
  pid="$(cat "$KIND_DOCKER_PIDFILE")"
  kill "$pid"
  for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -0 "$pid" 2>/dev/null && { log "dockerd $pid did not stop in 60 s: KILL"; kill -9 "$pid"; }
  local dir
  for dir in -i -o; do
    iptables -D FORWARD "$dir" "$KIND_BRIDGE" -j ACCEPT 2>/dev/null || true
  done
  log "the kind Docker daemon stopped"
}
