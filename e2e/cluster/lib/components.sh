# shellcheck shell=bash
# Starting the cluster's processes, all on the host as root, each a background process
# with a pid file in $RUN_DIR and a log in $LOG_DIR. Sourced after common.sh and
# build.sh; needs $K8S_BIN, $COREDNS_BIN, $NODE_IP.

ETCD_CLIENT_URL="http://127.0.0.1:12379"   # not 2379, to stay clear of any other etcd
CONTAINERD_SOCK="/run/finetune-e2e/containerd.sock"   # not docker's containerd
CONTAINERD_STATE="/run/finetune-e2e/containerd"
CNI_CONF_DIR="$STATE_DIR/cni/net.d"
CNI_BIN_DIR="/usr/lib/cni"                 # Debian's containernetworking-plugins
KUBELET_ROOT="$STATE_DIR/kubelet"
# Where e2e/cluster/lib/hostdir-provisioner.sh puts the directories behind PVs.
VOLUME_ROOT="$STATE_DIR/volumes"
PROVISIONER_NAME="finetune-e2e.local/hostdir"

# ---- host preparation -------------------------------------------------------------

# prepare_host_network: kernel settings kubelet, kube-proxy and the bridge CNI need,
# and the DNS address on lo.
prepare_host_network() {
  [[ -d /proc/sys/net/bridge ]] || modprobe br_netfilter 2>/dev/null || true
  [[ -d /proc/sys/net/bridge ]] || die "br_netfilter is not available in this kernel"
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1
  ip addr replace "$DNS_IP/32" dev lo
}

# write_cni_config: one bridge network for all pods, host-local IPAM, plus portmap for
# hostPort and firewall, which accepts pod traffic in the FORWARD chain (dockerd sets
# that chain's policy to DROP). containerd adds the loopback plugin by itself.
write_cni_config() {
  mkdir -p "$CNI_CONF_DIR" "$STATE_DIR/cni/ipam"
  cat >"$CNI_CONF_DIR/10-finetune-e2e.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "finetune-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE_DIR/cni/ipam",
        "ranges": [[{"subnet": "${POD_CIDR%.0.0/16}.0.0/24"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall"}
  ]
}
EOF
}

# ---- control plane ----------------------------------------------------------------

start_etcd() {
  start_daemon etcd "$LOG_DIR/etcd.log" "$K8S_BIN/etcd" \
    --name e2e --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls "$ETCD_CLIENT_URL" --advertise-client-urls "$ETCD_CLIENT_URL" \
    --listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 \
    --initial-cluster e2e=http://127.0.0.1:12380 \
    --listen-metrics-urls http://127.0.0.1:12381 \
    --unsafe-no-fsync   # test data only: fsync latency would dominate on a busy CI disk
  wait_or_die etcd 60 "etcd health" curl -fsS "$ETCD_CLIENT_URL/health"
}

start_apiserver() {
  start_daemon kube-apiserver "$LOG_DIR/kube-apiserver.log" "$K8S_BIN/kube-apiserver" \
    --etcd-servers="$ETCD_CLIENT_URL" \
    --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --client-ca-file="$PKI_DIR/ca.crt" \
    --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
    --kubelet-client-certificate="$PKI_DIR/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$PKI_DIR/sa.pub" \
    --service-account-signing-key-file="$PKI_DIR/sa.key" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --profiling=false
  wait_or_die kube-apiserver 120 "kube-apiserver /readyz" "$KUBECTL" --kubeconfig="$KUBECONFIG_ADMIN" get --raw /readyz
}

start_controller_manager() {
  start_daemon kube-controller-manager "$LOG_DIR/kube-controller-manager.log" \
    "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$STATE_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE_DIR/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI_DIR/sa.key" \
    --root-ca-file="$PKI_DIR/ca.crt" \
    --cluster-signing-cert-file="$PKI_DIR/ca.crt" --cluster-signing-key-file="$PKI_DIR/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --profiling=false
}

start_scheduler() {
  start_daemon kube-scheduler "$LOG_DIR/kube-scheduler.log" "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$STATE_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig="$STATE_DIR/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

# ---- node -------------------------------------------------------------------------------

# write_containerd_config: a containerd of our own (own socket, root and state dirs), so
# neither dockerd's containerd nor a system one is touched. sandbox_image names the
# locally imported pause image, so containerd never tries to pull one.
write_containerd_config() {
  mkdir -p "$STATE_DIR/containerd" "$CONTAINERD_STATE"
  cat >"$STATE_DIR/containerd.toml" <<EOF
version = 2
root = "$STATE_DIR/containerd"
state = "$CONTAINERD_STATE"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = "$CONTAINERD_SOCK.debug"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  # These machines withhold CAP_SYS_RESOURCE even from root, so runc cannot lower a
  # container's oom_score_adj below ours (kubelet asks -998 for sandboxes): clamp it
  # instead of failing every pod with "failed to update /proc/self/oom_score_adj".
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_CONF_DIR"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = $([[ "$(host_cgroup_driver)" == systemd ]] && echo true || echo false)
EOF
}

start_containerd() {
  write_containerd_config
  start_daemon containerd "$LOG_DIR/containerd.log" \
    containerd --config "$STATE_DIR/containerd.toml"
  wait_or_die containerd 60 "containerd socket" ctr --address "$CONTAINERD_SOCK" version
}

# ctr_k8s ARGS...: ctr against our containerd, in the namespace the CRI plugin uses.
ctr_k8s() {
  ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"
}

# host_cgroup_driver: kubelet and containerd must agree; on these machines (cgroup v1
# and no systemd as PID 1) only cgroupfs works.
host_cgroup_driver() {
  if [[ "$(stat -fc %T /sys/fs/cgroup)" == "cgroup2fs" ]] && [[ -d /run/systemd/system ]]; then
    echo systemd
  else
    echo cgroupfs
  fi
}

write_kubelet_config() {
  mkdir -p "$KUBELET_ROOT"
  cat >"$STATE_DIR/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI_DIR/ca.crt"}
authorization: {mode: Webhook}
cgroupDriver: $(host_cgroup_driver)
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
clusterDomain: "$CLUSTER_DOMAIN"
clusterDNS: ["$DNS_IP"]
resolvConf: /etc/resolv.conf
failSwapOn: false
# cgroup v1 is deprecated in 1.34 but still allowed; keep it allowed explicitly.
failCgroupV1: false
podCIDR: "${POD_CIDR%.0.0/16}.0.0/24"
serializeImagePulls: false
# Images only ever come from 'cluster.sh load-image': nothing could pull them back, so
# image garbage collection is off (100%) and disk-pressure eviction is relaxed.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
protectKernelDefaults: false
# Static pods are not used.
staticPodPath: ""
EOF
}

start_kubelet() {
  write_kubelet_config
  start_daemon kubelet "$LOG_DIR/kubelet.log" "$K8S_BIN/kubelet" \
    --config="$STATE_DIR/kubelet-config.yaml" \
    --kubeconfig="$STATE_DIR/kubelet.kubeconfig" \
    --root-dir="$KUBELET_ROOT" \
    --hostname-override="$NODE_NAME" \
    --node-ip="$NODE_IP" \
    --v=1
  wait_or_die kubelet 120 "node $NODE_NAME Ready" node_ready
}

node_ready() {
  [[ "$("$KUBECTL" --kubeconfig="$KUBECONFIG_ADMIN" get node "$NODE_NAME" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == "True" ]]
}

# kube-proxy (iptables mode) makes ClusterIP Services work, above all the in-cluster
# API endpoint kubernetes.default (10.96.0.1) that the operator pod uses.
start_kube_proxy() {
  cat >"$STATE_DIR/kube-proxy-config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$STATE_DIR/kube-proxy.kubeconfig"}
mode: iptables
clusterCIDR: "$POD_CIDR"
hostnameOverride: "$NODE_NAME"
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the conntrack sysctls alone: they may be read-only in a VM/container.
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start_daemon kube-proxy "$LOG_DIR/kube-proxy.log" "$K8S_BIN/kube-proxy" \
    --config="$STATE_DIR/kube-proxy-config.yaml"
}

# ---- storage ---------------------------------------------------------------------------

start_volume_provisioner() {
  start_daemon hostdir-provisioner "$LOG_DIR/hostdir-provisioner.log" \
    env KUBECTL="$KUBECTL" KUBECONFIG="$KUBECONFIG_ADMIN" VOLUME_ROOT="$VOLUME_ROOT" \
        PROVISIONER="$PROVISIONER_NAME" bash "$CLUSTER_DIR/lib/hostdir-provisioner.sh"
}

# ---- DNS ----------------------------------------------------------------------------

# CoreDNS runs as a host process (no image, no ClusterIP needed) on $DNS_IP:53, which
# kubelet hands to every pod as its nameserver. It serves cluster.local from the API
# (pod hostnames behind headless Services included) and forwards the rest upstream.
start_coredns() {
  cat >"$STATE_DIR/Corefile" <<EOF
.:53 {
    bind $DNS_IP
    errors
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $STATE_DIR/coredns.kubeconfig finetune-e2e
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    forward . /etc/resolv.conf
    cache 10
    loadbalance
}
EOF
  start_daemon coredns "$LOG_DIR/coredns.log" "$COREDNS_BIN/coredns" -conf "$STATE_DIR/Corefile"
  wait_or_die coredns 30 "CoreDNS on $DNS_IP:53" coredns_listening
}

coredns_listening() {
  [[ "$(ss -Hlun "sport = :53")" == *"$DNS_IP:53"* ]]
}

# ---- NetworkPolicy ---------------------------------------------------------------------

# The bridge CNI does not enforce NetworkPolicy; kube-router's policy controller does, as
# a host process (e2e/cluster/build/netpol): it renders each policy into iptables chains
# and ipsets that filter the pods' traffic on the bridge (FORWARD, via br_netfilter) and
# to the host (INPUT: the API server on the node IP, CoreDNS on $DNS_IP). It reads the
# Node object, so it starts after kubelet has registered it, and before any test pod.
start_network_policy_enforcer() {
  start_daemon netpol "$LOG_DIR/netpol.log" "$NETPOL_BIN/netpol" \
    --kubeconfig="$KUBECONFIG_ADMIN" \
    --hostname-override="$NODE_NAME" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --health-port="$NETPOL_HEALTH_PORT" \
    --v=1
  wait_or_die netpol 60 "NetworkPolicy enforcer healthy, its chains installed" netpol_ready
}

netpol_ready() {
  curl -fsS "http://127.0.0.1:$NETPOL_HEALTH_PORT/healthz" >/dev/null \
    && iptables -S FORWARD | grep -q -- '-j KUBE-ROUTER-FORWARD'
}
