#!/bin/bash
# The kind node's pod network and NetworkPolicy enforcer (DaemonSet kind-network in
# kube-system, e2e/kind/node/manifests/default-cni.yaml), one pod per node, host network:
#  1. writes the CNI configuration: routed veth pairs (ptp) with host-local addresses from
#     this node's spec.podCIDR (the controller manager assigns it); kubelet reports the node
#     Ready once the file exists;
#  2. execs kube-router's network policy controller (the host-process cluster's enforcer,
#     e2e/cluster/build/netpol) with a kubeconfig made of the pod's ServiceAccount token.
set -euo pipefail

: "${NODE_NAME:?set from spec.nodeName}"
SA=/var/run/secrets/kubernetes.io/serviceaccount
# kind adds CONTROL_PLANE_ENDPOINT (host:port inside the docker network), so this pod
# needs no Service routing (kube-proxy may not have started yet).
SERVER="https://${CONTROL_PLANE_ENDPOINT:-$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT}"
CNI_CONF=/etc/cni/net.d/10-kind-network.conflist

node_pod_cidr() {
  curl -fsS --max-time 5 --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")" \
    "$SERVER/api/v1/nodes/$NODE_NAME" | jq -r '.spec.podCIDR // empty'
}

pod_cidr=""
for _ in $(seq 1 300); do
  pod_cidr="$(node_pod_cidr || true)"
  [[ -n "$pod_cidr" ]] && break
  echo "waiting for node $NODE_NAME's podCIDR (API server $SERVER)" >&2
  sleep 1
done
[[ -n "$pod_cidr" ]] || { echo "node $NODE_NAME has no spec.podCIDR after 300 s" >&2; exit 1; }

cat >"$CNI_CONF.tmp" <<CONF
{
  "cniVersion": "1.0.0",
  "name": "kind-network",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "mtu": 1500,
      "ipam": {
        "type": "host-local",
        "dataDir": "/run/cni-ipam-state",
        "ranges": [[{"subnet": "$pod_cidr"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CONF
mv "$CNI_CONF.tmp" "$CNI_CONF"
echo "wrote $CNI_CONF (pods of $NODE_NAME in $pod_cidr)" >&2

cat >/tmp/kubeconfig <<CONF
apiVersion: v1
kind: Config
clusters: [{name: cluster, cluster: {server: "$SERVER", certificate-authority: $SA/ca.crt}}]
users: [{name: netpol, user: {tokenFile: $SA/token}}]
contexts: [{name: netpol, context: {cluster: cluster, user: netpol}}]
current-context: netpol
CONF
exec /usr/local/bin/netpol --kubeconfig=/tmp/kubeconfig --hostname-override="$NODE_NAME" \
  --service-cluster-ip-range="${SERVICE_SUBNET:-10.96.0.0/16}" --health-port=20244 --v=1
