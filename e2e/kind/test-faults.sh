#!/usr/bin/env bash
# Checks faults.sh without a cluster: stand-in docker and kubectl record what they are asked and answer
# as a Kind node would (crictl ids and pids, /readyz after two failures, a Ready node). PASS/FAIL per
# check; exits 1 when one fails.
#   bash e2e/kind/test-faults.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source "$here/../lib/common.sh"   # check, summary
calls="$work/calls"
cat >"$work/docker" <<STUB
#!/bin/bash
# docker exec NODE COMMAND...: the node's crictl answers for two operator containers and the apiserver
[[ "\$1" == exec ]] || exit 2
shift; node="\$1"; shift
echo "\$node: \$*" >>"$calls"
case "\$*" in
  *"crictl ps"*"io.kubernetes.container.name=operator"*) printf 'op1\nop2\n' ;;
  *"crictl ps"*"--name ^kube-apiserver\$"*) [[ -f "$work/stopped" ]] && echo api2 || echo api1 ;;
  *"crictl ps"*"--name ^etcd\$"*) [[ -f "$work/stopped" ]] && echo etcd2 || echo etcd1 ;;
  *"crictl stop"*) touch "$work/stopped" ;;
  *"crictl inspect"*op1) echo 4242 ;;
  *"crictl inspect"*op2) echo 4343 ;;
esac
STUB
cat >"$work/kubectl" <<STUB
#!/bin/bash
echo "kubectl \$*" >>"$calls"
case "\$*" in
  *"--raw /readyz"*) n=\$(cat "$work/readyz" 2>/dev/null || echo 0); echo \$((n + 1)) >"$work/readyz"; ((n >= 2)) ;;
  *"get node"*) n=\$(cat "$work/node" 2>/dev/null || echo 0); echo \$((n + 1)) >"$work/node"
    ((n >= 1)) && echo "True 2999-01-01T00:00:00Z" || echo "True 2000-01-01T00:00:00Z" ;;
esac
STUB
chmod +x "$work/docker" "$work/kubectl"
run() { : >"$calls"; rm -f "$work/readyz" "$work/stopped" "$work/node"; PATH="$work:$PATH" FAULTS_DOCKER=docker KUBECONFIG="$work/kc" bash "$here/faults.sh" "$@" >"$work/out" 2>&1; }
called() { grep -qxF -- "$1" "$calls"; }

run operator-sigkill --name c1
check "operator-sigkill: finds the operator containers by namespace and container name" \
  called "c1-control-plane: crictl ps --state running -q --label io.kubernetes.pod.namespace=finetune-system --label io.kubernetes.container.name=operator"
check "operator-sigkill: SIGKILLs each container's process in the node" \
  bash -c "grep -qxF 'c1-control-plane: kill -KILL 4242' '$calls' && grep -qxF 'c1-control-plane: kill -KILL 4343' '$calls'"
run operator-sigkill --name c1 --namespace ops
check "operator-sigkill --namespace: that namespace" grep -q "io.kubernetes.pod.namespace=ops" "$calls"

run apiserver-restart --name c2
check "apiserver-restart: stops the kube-apiserver container at once" called "c2-control-plane: crictl stop --timeout 0 api1"
check "apiserver-restart: waits for the kubelet's new container" grep -q "recovered in [0-9]* s (kube-apiserver running again)" "$work/out"
check "apiserver-restart: then for /readyz (answered on the third poll)" grep -q "recovered in [0-9]* s (kube-apiserver /readyz)" "$work/out"
check "apiserver-restart: polled /readyz three times" test "$(grep -c -- '--raw /readyz' "$calls")" -eq 3
run etcd-restart --name c2
check "etcd-restart: stops the etcd container" called "c2-control-plane: crictl stop --timeout 0 etcd1"

run kubelet-stop 1 --name c3
check "kubelet-stop: stops and starts the kubelet" \
  bash -c "grep -qxF 'c3-control-plane: systemctl stop kubelet' '$calls' && grep -qxF 'c3-control-plane: systemctl start kubelet' '$calls'"
check "kubelet-stop: waits for the node to be Ready" grep -q "recovered in [0-9]* s (node c3-control-plane Ready)" "$work/out"
check "kubelet-stop: a Ready from before the stop does not count (a fresh heartbeat on the second poll)" \
  test "$(grep -c 'get node' "$calls")" -eq 2
check "kubelet-stop without a number of seconds is refused" bash -c "! PATH='$work:$PATH' FAULTS_DOCKER=docker bash '$here/faults.sh' kubelet-stop soon --name c3 2>/dev/null"

run containerd-restart --name c4
check "containerd-restart: restarts containerd" called "c4-control-plane: systemctl restart containerd"
check "an unknown fault is refused" bash -c "! bash '$here/faults.sh' unplug --name c4 >/dev/null 2>&1"

summary faults.sh
