#!/usr/bin/env bash
# A tiny dynamic volume provisioner for the single-node e2e cluster, run by
# 'cluster.sh up' as a host process. For every Pending PVC of a StorageClass whose
# provisioner is $PROVISIONER it creates a world-writable directory and a hostPath PV
# pre-bound to that PVC; when such a PV is Released it deletes the directory and the PV.
#
# Why not kube-controller-manager's built-in hostPath provisioner: it makes its
# directories root:root 0750, so pods that run as a non-root user cannot write to
# their volumes (and fsGroup does not apply to hostPath).
#
# Environment: KUBECTL, KUBECONFIG, VOLUME_ROOT, PROVISIONER. Polls once a second.
set -uo pipefail

: "${KUBECTL:?}" "${KUBECONFIG:?}" "${VOLUME_ROOT:?}" "${PROVISIONER:?}"
export KUBECONFIG

kc() { "$KUBECTL" --request-timeout=10s "$@"; }

# our_storage_classes: names of the StorageClasses served by this provisioner.
our_storage_classes() {
  kc get storageclass -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.provisioner}{"\n"}{end}' \
    | awk -v p="$PROVISIONER" '$2 == p {print $1}'
}

# create_volume NS NAME UID CLASS SIZE MODES...: directory + PV bound to the claim.
create_volume() {
  local ns="$1" name="$2" uid="$3" class="$4" size="$5"; shift 5
  local pv="pvc-$uid" dir="$VOLUME_ROOT/pvc-$uid" modes
  modes="$(printf '"%s",' "$@")"
  mkdir -p "$dir" && chmod 0777 "$dir"
  kc create -f - >/dev/null <<EOF || return 1
{
  "apiVersion": "v1",
  "kind": "PersistentVolume",
  "metadata": {
    "name": "$pv",
    "annotations": {"pv.kubernetes.io/provisioned-by": "$PROVISIONER"},
    "labels": {"finetune-e2e/claim-namespace": "$ns"}
  },
  "spec": {
    "capacity": {"storage": "$size"},
    "accessModes": [${modes%,}],
    "persistentVolumeReclaimPolicy": "Delete",
    "storageClassName": "$class",
    "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "namespace": "$ns", "name": "$name", "uid": "$uid"},
    "hostPath": {"path": "$dir", "type": "Directory"}
  }
}
EOF
  echo "provisioned $pv for $ns/$name ($size) at $dir"
}

provision_pending_claims() {
  local classes ns name uid class size modes
  classes=" $(our_storage_classes | tr '\n' ' ') "
  [[ "$classes" == "  " ]] && return 0
  kc get pvc -A -o jsonpath='{range .items[?(@.status.phase=="Pending")]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.uid}{" "}{.spec.storageClassName}{" "}{.spec.resources.requests.storage}{" "}{.spec.volumeName}{" "}{.spec.accessModes}{"\n"}{end}' \
    | while read -r ns name uid class size rest; do
        [[ "$classes" == *" $class "* ]] || continue
        # A claim that already names a volume is the PV controller's business.
        [[ "$rest" == \[* ]] || continue
        kc get pv "pvc-$uid" >/dev/null 2>&1 && continue
        modes="$(tr -d '[]"' <<<"$rest" | tr ',' ' ')"
        # shellcheck disable=SC2086  # word-split the access modes on purpose
        create_volume "$ns" "$name" "$uid" "$class" "$size" $modes
      done
}

delete_released_volumes() {
  local pv path
  kc get pv -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{" "}{.metadata.annotations.pv\.kubernetes\.io/provisioned-by}{" "}{.spec.persistentVolumeReclaimPolicy}{" "}{.spec.hostPath.path}{"\n"}{end}' \
    | while read -r pv by policy path; do
        [[ "$by" == "$PROVISIONER" && "$policy" == Delete ]] || continue
        # Only ever delete below our own volume root.
        [[ "$path" == "$VOLUME_ROOT"/pvc-* ]] && rm -rf -- "$path"
        kc delete pv "$pv" --wait=false >/dev/null && echo "deleted $pv"
      done
}

mkdir -p "$VOLUME_ROOT"
while true; do
  provision_pending_claims || true
  delete_released_volumes || true
  sleep 1
done
