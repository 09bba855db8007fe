# shellcheck shell=bash
# Stopping the cluster and removing every trace of it except the build cache.
# Each step is best-effort (a half-started cluster must still come down cleanly).
# Sourced after components.sh.

# drain_pods: lets kubelet stop every pod itself, so the CNI plugins remove their
# iptables rules, veths and netns the normal way. Controllers are stopped first so
# nothing gets recreated.
drain_pods() {
  daemon_running kube-apiserver && daemon_running kubelet || return 0
  stop_daemon kube-controller-manager
  stop_daemon kube-scheduler
  "$KUBECTL" --kubeconfig="$KUBECONFIG_ADMIN" delete pods --all --all-namespaces \
    --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
  wait_for 60 "pod sandboxes to stop" no_running_tasks || true
}

no_running_tasks() {
  [[ -z "$(ctr_k8s tasks ls 2>/dev/null | awk 'NR>1 && $3=="RUNNING"')" ]]
}

# kill_containers: whatever kubelet left behind (e.g. after a crash), removed through
# our own containerd; the runc shims exit once their tasks are gone.
kill_containers() {
  daemon_running containerd || return 0
  local id
  for id in $(ctr_k8s tasks ls -q 2>/dev/null); do
    ctr_k8s tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  sleep 1
  for id in $(ctr_k8s tasks ls -q 2>/dev/null); do
    ctr_k8s tasks delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_k8s containers ls -q 2>/dev/null); do
    ctr_k8s containers delete "$id" >/dev/null 2>&1 || true
  done
}

# unmount_under DIR: lazily unmounts every mount point below DIR, deepest first.
unmount_under() {
  local dir="$1" m
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo \
    | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# remove_pod_netns: pod network namespaces made by our containerd that kubelet did not
# delete, recognized by containerd CRI's cni- prefix and an address from our pod CIDR.
remove_pod_netns() {
  local ns prefix="${POD_CIDR%.0.0/16}."
  for ns in $(ls /var/run/netns 2>/dev/null | grep '^cni-' || true); do
    if [[ "$(ip netns exec "$ns" ip -4 -o addr show 2>/dev/null)" == *" inet $prefix"* ]]; then
      ip netns delete "$ns" 2>/dev/null || true
    fi
  done
}

# remove_cni_iptables: NAT rules the bridge plugin tagged with our network name, and the
# chains of the firewall/portmap plugins, when kubelet could not run CNI DEL.
remove_cni_iptables() {
  local rule chain
  { iptables-save -t nat 2>/dev/null || true; } | awk '/^-A POSTROUTING/ && /name: \\"finetune-e2e\\"/' \
    | sed 's/^-A /-D /' | while read -r rule; do eval "iptables -t nat $rule" 2>/dev/null || true; done
  for chain in $(iptables-save -t nat 2>/dev/null | awk '/^:CNI-/{print substr($1,2)}'); do
    iptables -t nat -F "$chain" 2>/dev/null || true
    iptables -t nat -X "$chain" 2>/dev/null || true
  done
  # firewall plugin: FORWARD -> CNI-FORWARD -> CNI-ADMIN (+ per-pod rules)
  if iptables -S CNI-FORWARD >/dev/null 2>&1; then
    iptables -D FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD 2>/dev/null || true
    iptables -F CNI-FORWARD 2>/dev/null || true
    iptables -X CNI-FORWARD 2>/dev/null || true
    iptables -F CNI-ADMIN 2>/dev/null || true
    iptables -X CNI-ADMIN 2>/dev/null || true
  fi
}

remove_kube_proxy_iptables() {
  [[ -n "${K8S_BIN:-}" && -x "$K8S_BIN/kube-proxy" ]] || return 0
  "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
}

# remove_kubelet_iptables: the chains kubelet itself keeps (KUBE-FIREWALL with its
# INPUT/OUTPUT jumps, and the canary/hint chains kube-proxy uses to detect flushes).
remove_kubelet_iptables() {
  local table chain
  iptables -D INPUT -j KUBE-FIREWALL 2>/dev/null || true
  iptables -D OUTPUT -j KUBE-FIREWALL 2>/dev/null || true
  for table in filter nat mangle; do
    for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

# remove_netpol_rules: what the NetworkPolicy enforcer (kube-router's policy controller)
# leaves in the filter table and in ipset when it stops: the jumps from INPUT, FORWARD
# and OUTPUT (commented "kube-router netpol"), its chains, and its KUBE-SRC-/KUBE-DST-
# sets. kube-proxy's own KUBE-SVC-/KUBE-SEP- chains are not touched here.
remove_netpol_rules() {
  local rule chain set chains
  { iptables-save -t filter 2>/dev/null || true; } \
    | awk '/^-A (INPUT|FORWARD|OUTPUT) / && /kube-router netpol/' | sed 's/^-A /-D /' \
    | while read -r rule; do eval "iptables $rule" 2>/dev/null || true; done
  chains="$({ iptables-save -t filter 2>/dev/null || true; } \
    | awk '/^:KUBE-(ROUTER-|POD-FW-|NWPLCY-)/ {print substr($1, 2)}')"
  # Flush all before deleting any: the chains jump to one another.
  for chain in $chains; do iptables -F "$chain" 2>/dev/null || true; done
  for chain in $chains; do iptables -X "$chain" 2>/dev/null || true; done
  command -v ipset >/dev/null || return 0
  for set in $(ipset list -n 2>/dev/null | grep -E '^KUBE-(SRC|DST)-' || true); do
    ipset destroy "$set" 2>/dev/null || true
  done
}

remove_links() {
  ip link delete "$CNI_BRIDGE" 2>/dev/null || true
  ip addr delete "$DNS_IP/32" dev lo 2>/dev/null || true
}

# remove_kubepods_cgroups: the per-QOS/per-pod cgroups kubelet created (empty by now).
remove_kubepods_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/unified/kubepods; do
    [[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

teardown_cluster() {
  drain_pods
  stop_daemon kubelet
  kill_containers
  stop_daemon containerd
  stop_daemon kube-proxy
  local d
  for d in hostdir-provisioner netpol coredns kube-controller-manager kube-scheduler kube-apiserver etcd; do
    stop_daemon "$d"
  done
  remove_kube_proxy_iptables
  remove_cni_iptables
  remove_kubelet_iptables
  remove_netpol_rules
  unmount_under "$STATE_DIR"
  unmount_under /run/finetune-e2e
  remove_pod_netns
  remove_links
  remove_kubepods_cgroups
  rm -rf "$STATE_DIR" /run/finetune-e2e
}
