# shellcheck shell=bash
# 'cluster.sh smoke': end-to-end checks of a running cluster, each with a timeout and
# one PASS/FAIL line (check, e2e/lib/common.sh); exits non-zero if any fails. Sourced by cluster.sh.

SMOKE_NS="e2e-smoke"
SMOKE_IMAGE="local/e2e-smoke:1"
k() { kubectl_admin -n "$SMOKE_NS" "$@"; }

# wait_pod_succeeded POD SECONDS: true once the pod completed successfully; on failure
# prints what the pod and its events say, to make the FAIL line actionable.
wait_pod_succeeded() {
  local pod="$1" timeout="$2" phase deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    phase="$(k get pod "$pod" -o jsonpath='{.status.phase}' 2>/dev/null || true)"
    [[ "$phase" == Succeeded ]] && return 0
    [[ "$phase" == Failed ]] && break
    sleep 1
  done
  echo "  pod $pod: phase=${phase:-none} after ${timeout}s" >&2
  k logs "$pod" --tail=20 2>&1 | sed 's/^/  log: /' >&2 || true
  k get events --field-selector "involvedObject.name=$pod" 2>&1 | tail -5 | sed 's/^/  event: /' >&2 || true
  return 1
}

# pod_manifest NAME SCRIPT [POD_SPEC_YAML] [CONTAINER_YAML]: a run-once pod of the smoke
# image running the bash SCRIPT; the optional YAML lines are added to the pod spec and to
# the container (each line already indented for its place).
pod_manifest() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app: $1}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
${3:-}
  containers:
  - name: main
    image: $SMOKE_IMAGE
    imagePullPolicy: Never
${4:-}
    command: ["bash", "-c"]
    args:
    - |
$(printf '%s\n' "$2" | sed 's/^/      /')
EOF
}

check_readyz() {
  [[ "$(kubectl_admin get --raw /readyz 2>/dev/null)" == ok ]]
}

check_node_ready() {
  node_ready
}

# check_local_image_pod: base images -> docker build -> load-image -> pod runs it.
check_local_image_pod() {
  bash "$IMAGES_DIR/base.sh" >&2 || return 1
  ensure_docker
  docker_build "$SMOKE_IMAGE" "$IMAGES_DIR/smoke" || return 1
  load_docker_image "$SMOKE_IMAGE" || return 1
  pod_manifest image-run 'exec sh -c "java -version 2>&1 | head -1 && echo smoke-image-ok"' | k apply -f - >/dev/null
  wait_pod_succeeded image-run 180 && [[ "$(k logs image-run)" == *smoke-image-ok* ]]
}

check_pvc_write() {
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
EOF
  # The pod is created before the claim binds: classes that bind on first use
  # (WaitForFirstConsumer, as kind's) bind only then.
  pod_manifest pvc-writer 'echo hello > /data/hello && sync && cat /data/hello' \
    '  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]' \
    '    volumeMounts: [{name: data, mountPath: /data}]
    securityContext: {runAsUser: 1000, runAsGroup: 1000}' \
    | k apply -f - >/dev/null
  wait_for 60 "PVC data Bound" pvc_bound data || return 1
  wait_pod_succeeded pvc-writer 120 && [[ "$(k logs pvc-writer)" == hello ]]
}

pvc_bound() {
  [[ "$(k get pvc "$1" -o jsonpath='{.status.phase}')" == Bound ]]
}

# check_headless_dns: pod "client" resolves pod "target" as <hostname>.<headless svc>
# (short, via the search path) and as the full name.
check_headless_dns() {
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: workers}
spec:
  clusterIP: None
  selector: {app: dns-target}
  ports: [{name: p, port: 29500}]
EOF
  pod_manifest dns-target 'sleep 600' '  hostname: worker-0
  subdomain: workers' | k apply -f - >/dev/null
  local fqdn="worker-0.workers.$SMOKE_NS.svc.$CLUSTER_DOMAIN"
  pod_manifest dns-client "for i in \$(seq 1 60); do
  if getent hosts worker-0.workers && getent hosts $fqdn; then exit 0; fi
  sleep 1
done
cat /etc/resolv.conf
exit 1" \
    | k apply -f - >/dev/null
  wait_pod_succeeded dns-client 120 || return 1
  local want logs
  want="$(k get pod dns-target -o jsonpath='{.status.podIP}')"
  logs="$(k logs dns-client)"
  # (no 'k logs | grep -q': with pipefail an early grep exit fails the pipeline)
  grep -q "^$want .*$fqdn" <<<"$logs" || { echo "  expected $want, got: $logs" >&2; return 1; }
}

# check_service_vip: a pod reaches the API server through kubernetes.default (DNS +
# ClusterIP via kube-proxy), as the operator pod will.
check_service_vip() {
  pod_manifest api-vip 'timeout 10 bash -c "exec 3<>/dev/tcp/kubernetes.default.svc/443" && echo reached' \
    | k apply -f - >/dev/null
  wait_pod_succeeded api-vip 90
}

run_smoke() {
  cluster_running || die "cluster is not running (cluster.sh up)"
  kubectl_admin delete namespace "$SMOKE_NS" --ignore-not-found --wait=true --timeout=60s >/dev/null 2>&1 || true
  kubectl_admin create namespace "$SMOKE_NS" >/dev/null
  wait_for 30 "default ServiceAccount in $SMOKE_NS" k get serviceaccount default || true
  check "API server /readyz is ok" check_readyz
  check "node $NODE_NAME is Ready" check_node_ready
  check "NetworkPolicy enforcer is healthy and hooked into INPUT/FORWARD/OUTPUT" netpol_ready
  check "pod from a locally built image ($SMOKE_IMAGE) ran to completion" check_local_image_pod
  check "PVC bound (StorageClass standard) and a non-root pod wrote to it" check_pvc_write
  check "pod resolved <hostname>.<headless-svc> of another pod" check_headless_dns
  check "pod reached kubernetes.default.svc:443 (ClusterIP via kube-proxy)" check_service_vip
  run_netpol_smoke
  # Checks only one kind of cluster has (kind.sh's local registry) are defined by its smoke file.
  if declare -F run_cluster_specific_smoke >/dev/null; then run_cluster_specific_smoke; fi
  if ((fail == 0)); then
    kubectl_admin delete namespace "$SMOKE_NS" --wait=false >/dev/null 2>&1 || true
  else
    echo "(namespace $SMOKE_NS kept for inspection; logs in $LOG_DIR)"
  fi
  summary smoke
}
