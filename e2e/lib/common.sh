# shellcheck shell=bash
# The helpers of the cluster's shell smoke (e2e/cluster/cluster.sh smoke, e2e/kind/kind.sh smoke):
# checks that count and say why they failed, waits with a deadline, fields of a FineTuneJob, and the restricted,
# default-deny namespace the operator's jobs must work in. Sourced, never executed; scripts that read FineTuneJobs
# set $ns (the test namespace) first.

pass=0
fail=0
failed=()

# check "what" command...: one PASS/FAIL line with the seconds it took, then the command's output (stdout and
# stderr) indented: on PASS what it compared, at most 3 lines; on FAIL all of it, the reason.
check() {
  local what="$1" out t0=$SECONDS
  shift
  if out=$("$@" 2>&1); then
    echo "PASS $what ($((SECONDS - t0))s)"
    [[ -n "$out" ]] && head -3 <<<"$out" | sed 's/^/     /'
    pass=$((pass + 1))
  else
    echo "FAIL $what ($((SECONDS - t0))s)"
    [[ -n "$out" ]] && sed 's/^/     /' <<<"$out"
    fail=$((fail + 1))
    failed+=("$what")
  fi
  return 0
}

# summary NAME: "NAME: N passed, N failed" and the failed checks by name; true when none failed.
summary() {
  echo "$1: $pass passed, $fail failed"
  local f
  for f in "${failed[@]}"; do echo "  failed: $f"; done
  ((fail == 0))
}

# equals ACTUAL EXPECTED / matches ACTUAL REGEX / contains TEXT NEEDLE: predicates for check that say what they saw.
equals() { [[ "$1" == "$2" ]] || { echo "got '$1', expected '$2'"; return 1; }; }
matches() { [[ "$1" =~ $2 ]] || { echo "got '$1', expected to match /$2/"; return 1; }; }
contains() { grep -qF -- "$2" <<<"$1" || { echo "'$2' not in:"; echo "$1" | head -20; return 1; }; }

# wait_for SECONDS "what" command...: runs the command once a second until it succeeds; on timeout says so on
# stderr and fails.
wait_for() {
  local limit="$1" what="$2" deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${limit}s waiting for: $what" >&2
      return 1
    fi
    sleep 1
  done
}

# jp JOB JSONPATH: one field of FineTuneJob JOB in $ns.
jp() { kubectl -n "$ns" get finetunejob "$1" -o jsonpath="$2"; }

# field_is JOB JSONPATH VALUE: the field holds VALUE.
field_is() { [[ "$(jp "$1" "$2" 2>/dev/null)" == "$3" ]]; }

# wait_field SECONDS JOB JSONPATH VALUE: until the field holds VALUE; on timeout says what it holds.
wait_field() {
  local limit="$1" job="$2" path="$3" want="$4"
  wait_for "$limit" "$job $path to be '$want'" field_is "$job" "$path" "$want" && return 0
  echo "it is '$(jp "$job" "$path" 2>&1)'"
  return 1
}

# The securityContexts Pod Security "restricted" admits, for pods a script runs beside the operator's.
restricted_pod_security='{runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: {type: RuntimeDefault}}'
restricted_container='{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}'

# restricted_namespace NS: a namespace as strict as a careful cluster makes it: Pod Security "restricted"
# enforced and a default-deny NetworkPolicy (nothing in, nothing out unless a policy opens it).
restricted_namespace() {
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $1, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: $1}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
YAML
}

# claims NS NAME...: ReadWriteMany claims of 1Gi in NS, from the default StorageClass.
claims() {
  local ns="$1" name
  shift
  for name in "$@"; do
    printf -- '---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: %s, namespace: %s}\n' "$name" "$ns"
    printf 'spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}\n'
  done | kubectl apply -f - >/dev/null
}

# install_operator KUSTOMIZATION [NAME=VALUE...]: applies it, sets the environment variables given on the
# operator's Deployment, and waits until the Deployment has rolled out.
install_operator() {
  kubectl apply -k "$1" >/dev/null
  shift
  (($# == 0)) || kubectl -n finetune-system set env deployment/finetune-operator "$@" >/dev/null
  kubectl -n finetune-system rollout status deployment/finetune-operator --timeout=180s >/dev/null
}
