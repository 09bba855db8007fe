# Helpers of e2e/trainer/suite.sh on top of e2e/lib/common.sh: phases, Events and pods of a job, network probes
# from inside pods, and a dump of everything a person needs to diagnose a failed run (status, events, pod logs,
# the operator's log). Sourced, not run. Expects $ns (the test namespace).

source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# phase_is JOB PHASE...: the job is in one of the phases.
phase_is() {
  local job="$1" phase
  shift
  phase=$(jp "$job" '{.status.phase}')
  for want in "$@"; do [[ "$phase" == "$want" ]] && return 0; done
  return 1
}

# wait_terminal JOB SECONDS: until Succeeded or Failed; prints the phase it ended in.
wait_terminal() {
  local job="$1" limit="$2"
  if ! wait_for "$limit" "$job to finish" phase_is "$job" Succeeded Failed; then
    echo "($job is in phase $(jp "$job" '{.status.phase}'))" >&2
    return 1
  fi
  jp "$job" '{.status.phase}'
}

# status_json JOB: the job's status as JSON (for check.py).
status_json() { kubectl -n "$ns" get finetunejob "$1" -o json; }

# events_of JOB: "REASON<TAB>MESSAGE" of the Events recorded on this job (by UID: an earlier job of the same name
# may have left Events behind).
events_of() {
  local uid
  uid=$(jp "$1" '{.metadata.uid}')
  kubectl -n "$ns" get events --field-selector "involvedObject.uid=$uid" \
    -o jsonpath='{range .items[*]}{.reason}{"\t"}{.message}{"\n"}{end}'
}

# pods_of JOB [ATTEMPT]: worker pod names.
pods_of() {
  local selector="finetune.dev/job=$1"
  [[ -n "${2:-}" ]] && selector+=",finetune.dev/attempt=$2"
  kubectl -n "$ns" get pods -l "$selector" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
}

# dump: what a person reads after a failure.
dump() {
  echo
  echo "===== diagnostics (namespace $ns) ====="
  kubectl -n "$ns" get finetunejobs -o wide 2>&1 || true
  kubectl -n "$ns" get jobs,pods -o wide 2>&1 || true
  for job in $(kubectl -n "$ns" get finetunejobs -o name 2>/dev/null); do
    echo "----- $job: status"
    kubectl -n "$ns" get "$job" -o jsonpath='{.status}' 2>&1 | python3 -m json.tool 2>&1 | head -200 || true
  done
  echo "----- events"
  kubectl -n "$ns" get events --sort-by=.lastTimestamp 2>&1 | tail -80 || true
  for pod in $(kubectl -n "$ns" get pods -o name 2>/dev/null); do
    echo "----- $pod: log (last 40 lines)"
    kubectl -n "$ns" logs "$pod" --tail=40 2>&1 || true
  done
  echo "----- operator log (last 80 lines)"
  kubectl -n finetune-system logs deployment/finetune-operator --tail=80 2>&1 || true
}

# tcp_from POD ADDRESS PORT: one TCP connect from inside POD (bash's /dev/tcp), 3 s at most.
tcp_from() {
  kubectl -n "$ns" exec "$1" -- timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" >/dev/null 2>&1
}

# dns_from POD NAME: POD resolves NAME (through the cluster DNS its resolv.conf names), 5 s at most.
dns_from() {
  kubectl -n "$ns" exec "$1" -- timeout 5 getent hosts "$2" >/dev/null 2>&1
}

# blocked PROBE ARGS...: the probe fails twice in a row (one failure could be a slow pod, not a rule).
blocked() {
  if "$@" || "$@"; then
    echo "$* succeeded: the NetworkPolicy did not block it (does the cluster enforce NetworkPolicy?)"
    return 1
  fi
}

# twice PROBE ARGS...: the probe succeeds at the first or the second try.
twice() { "$@" || "$@"; }

# while_running POD PROBE ARGS...: the probe holds and POD still runs afterwards (a probe from a pod whose
# container ended fails too, so a refusal from it proves nothing about the policy).
while_running() {
  local pod="$1" phase
  shift
  "$@" || return 1
  phase=$(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.status.phase}' 2>&1)
  [[ "$phase" == Running ]] || { echo "$pod is $phase, not Running: it ended before the probes did"; return 1; }
}

# log_has POD TEXT: the pod's log contains TEXT.
log_has() { kubectl -n "$ns" logs "$1" 2>/dev/null | grep -qF -- "$2"; }
