# shellcheck shell=bash
# 'cluster.sh smoke', NetworkPolicy part: proves the enforcer (lib/components.sh,
# start_network_policy_enforcer) filters pod traffic. In a namespace of its own a client
# pod probes, by kubectl exec (which does not go through the pod network), three
# destinations a training job needs: another pod, the API server through the kubernetes
# Service's ClusterIP, and the host CoreDNS on $DNS_IP. With no policy all three answer
# (so the probes work); under default-deny none does; whether a rule naming the Service's
# ClusterIP opens the API server is reported (INFO); with allow rules all three work again.
# Without an enforcer the default-deny checks fail. Sourced after smoke.sh.

NETPOL_NS="e2e-smoke-netpol"
NETPOL_PORT=8080

kn() { kubectl_admin -n "$NETPOL_NS" "$@"; }

# probe_pod, probe_api, probe_dns: one attempt from the client pod, a few seconds at most.
probe_pod() {
  kn exec np-client -- timeout 3 bash -c \
    "exec 3<>/dev/tcp/$NETPOL_SERVER_IP/$NETPOL_PORT && head -1 <&3" 2>/dev/null | grep -q np-server-ok
}
probe_api() {
  kn exec np-client -- timeout 3 bash -c "exec 3<>/dev/tcp/$KUBERNETES_SVC_IP/443" >/dev/null 2>&1
}
probe_dns() {
  kn exec np-client -- timeout 4 getent hosts "kubernetes.default.svc.$CLUSTER_DOMAIN" >/dev/null 2>&1
}

# becomes_reachable PROBE: policies take effect a moment after they are applied.
becomes_reachable() {
  wait_for 30 "$1 to succeed" "$1"
}

# becomes_blocked PROBE: fails within 30 s and then fails again (a single failure could be
# a slow pod, not a rule).
becomes_blocked() {
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if ! "$1" && ! "$1"; then
      return 0
    fi
    sleep 1
  done
  echo "  $1 still succeeds after 30 s: is the NetworkPolicy enforcer running? (${NETPOL_LOG:-$LOG_DIR/netpol.log})" >&2
  return 1
}

netpol_setup() {
  kubectl_admin delete namespace "$NETPOL_NS" --ignore-not-found --wait=true --timeout=60s >/dev/null 2>&1 || true
  kubectl_admin create namespace "$NETPOL_NS" >/dev/null
  wait_for 30 "default ServiceAccount in $NETPOL_NS" kn get serviceaccount default || true
  # perl-base (in every Debian image) has sockets; the image has no netcat.
  pod_manifest np-server "exec perl -MIO::Socket::INET -e '
\$s = IO::Socket::INET->new(LocalPort => $NETPOL_PORT, Listen => 16, ReuseAddr => 1) or die \"listen: \$!\";
while (\$c = \$s->accept) { print \$c \"np-server-ok\\n\"; close \$c }'" | kn apply -f - >/dev/null
  pod_manifest np-client 'exec sleep 3600' | kn apply -f - >/dev/null
  kn wait --for=condition=Ready pod/np-server pod/np-client --timeout=120s >/dev/null || return 1
  NETPOL_SERVER_IP="$(kn get pod np-server -o jsonpath='{.status.podIP}')"
  [[ -n "$NETPOL_SERVER_IP" ]]
}

check_netpol_open() {
  becomes_reachable probe_pod && becomes_reachable probe_api && becomes_reachable probe_dns
}

apply_default_deny() {
  kn apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
EOF
}

# apply_api_by_clusterip: an egress rule naming the kubernetes Service's ClusterIP and port.
# Policies see traffic after kube-proxy translated it to the endpoint, so this opens nothing:
# the reason the operator's policy names the endpoint (reconcile/ApiServerEndpoints.java).
apply_api_by_clusterip() {
  kn apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-api-by-clusterip}
spec:
  podSelector: {matchLabels: {app: np-client}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: $KUBERNETES_SVC_IP/32}}]
    ports: [{protocol: TCP, port: 443}]
EOF
}

# stays_blocked PROBE: still fails 5 s after a policy change (the enforcer applies one in
# well under a second here), twice in a row.
stays_blocked() {
  sleep 5
  if "$1" || "$1"; then
    echo "  $1 succeeded" >&2
    return 1
  fi
}

# apply_allow: what a job's policy allows, here for the client: the server pod's port,
# the API server's endpoint (the node IP, port 6443: policies see traffic after kube-proxy
# translated 10.96.0.1:443) and DNS on port 53 anywhere; and the server's ingress from it.
apply_allow() {
  local node_ip
  node_ip="$(api_server_endpoint_ip)"
  kn apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress}
spec:
  podSelector: {matchLabels: {app: np-client}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: np-server}}}]
    ports: [{protocol: TCP, port: $NETPOL_PORT}]
  - to: [{ipBlock: {cidr: $node_ip/32}}]
    ports: [{protocol: TCP, port: 6443}]
  - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-ingress}
spec:
  podSelector: {matchLabels: {app: np-server}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: np-client}}}]
    ports: [{protocol: TCP, port: $NETPOL_PORT}]
EOF
}

# api_server_endpoint_ip: the address behind the kubernetes Service (the node's address on
# the host-process cluster, the control-plane container's on kind).
api_server_endpoint_ip() {
  kubectl_admin -n default get endpointslices -l kubernetes.io/service-name=kubernetes \
    -o jsonpath='{.items[0].endpoints[0].addresses[0]}'
}

run_netpol_smoke() {
  if ! netpol_setup; then
    check "NetworkPolicy probe pods np-server/np-client are Ready" false
    return
  fi
  check "no policy: pod reaches another pod, the API server ($KUBERNETES_SVC_IP:443) and DNS ($DNS_IP)" \
    check_netpol_open
  apply_default_deny
  check "default-deny: pod cannot reach another pod" becomes_blocked probe_pod
  check "default-deny: pod cannot reach the API server ($KUBERNETES_SVC_IP:443)" becomes_blocked probe_api
  check "default-deny: pod cannot resolve names (DNS $DNS_IP)" becomes_blocked probe_dns
  # An observation, not a check: it held in every run but one (a CI run of 2026-11-24 saw the API server
  # answer through a ClusterIP-only rule, not reproduced in 8 runs since). What the product relies on (the
  # operator's endpoint rule opens the API server) is checked below and by the trainer suite.
  apply_api_by_clusterip
  if stays_blocked probe_api 2>/dev/null; then
    echo "INFO: a rule naming only the Service's ClusterIP ($KUBERNETES_SVC_IP/32:443) did not open the API server"
  else
    echo "INFO: a rule naming only the Service's ClusterIP ($KUBERNETES_SVC_IP/32:443) opened the API server this time"
  fi
  apply_allow
  check "allow rules: pod reaches the other pod's port $NETPOL_PORT" becomes_reachable probe_pod
  check "allow rules: pod reaches the API server (ipBlock endpoint IP/32, port 6443)" becomes_reachable probe_api
  check "allow rules: pod resolves names (egress port 53)" becomes_reachable probe_dns
  ((fail == 0)) && kubectl_admin delete namespace "$NETPOL_NS" --wait=false >/dev/null 2>&1 || true
}
