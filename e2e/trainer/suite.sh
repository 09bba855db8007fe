#!/usr/bin/env bash
# The end-to-end suite: FineTuneJobs applied to a real API server, reconciled by the operator image running in
# the cluster, trained by the real CPU trainer image in pods the real kubelet runs, in a namespace with Pod
# Security "restricted" and a default-deny NetworkPolicy. Five jobs run side by side:
#   quickstart          examples/quickstart/finetunejob.yaml (happy path): history, PPL = exp(eval loss), printer
#                       columns, <job>-progress written by rank 0, conditions, Events, the adapter on the volume
#   two-workers         the same with resources.workers: 2: TCP all-reduce between pods through the headless Service
#   resume              a longer run whose worker pod is deleted after its first checkpoint: gang restart (attempt
#                       2, restarts 1), resume from the checkpoint, and the same eval losses as ...
#   resume-reference    ... the same spec, never interrupted
#   bad-data            a dataset with a malformed line: Failed, BadData, no restart, the file and line named
# Files on the output volume are read through a pod that mounts it (kubectl exec ... tar), not from the host.
# The cluster enforces NetworkPolicy (e2e/cluster runs kube-router's policy controller): while two-workers trains,
# probes show that default-deny blocks a pod without a job's labels (rank 0's rendezvous port, the API server, DNS)
# and that the operator's per-job policy opens the gang, DNS and the API server, and not the kubelet.
#
#   bash e2e/trainer/suite.sh
# Needs: KUBECONFIG pointing at the cluster (bash e2e/cluster/cluster.sh up), kubectl, python3, and in the cluster's
# containerd the operator image (finetune/operator:dev) and the trainer image (local/finetune-trainer:cpu)
# (bash e2e/cluster/cluster.sh load-image ...). Exit 1 when a check fails; the namespace is then kept and
# status, Events, pod logs and the operator's log are printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=e2e/trainer
ns=ft-e2e
trainer_image="${TRAINER_IMAGE:-local/finetune-trainer:cpu}"
# The node has 2 CPUs shared by everything: six trainer pods of 300m and the operator's 100m request fit.
# One libtorch thread each (the operator derives OMP_NUM_THREADS from the limit).
cpu=300m
memory=1536Mi
source "$here/lib.sh"
work=$(mktemp -d)
started=$(date +%s)
elapsed() { echo "$(($(date +%s) - started))s"; }
on_exit() {
  local rc=$?
  if ((rc != 0 || fail > 0)); then dump; fi
  rm -rf "$work"
}
trap on_exit EXIT

echo "== operator from deploy/kustomize/base, CPU jobs on $trainer_image ($here/operator)"
install_operator "$here/operator"
check "operator Deployment runs CPU jobs on $trainer_image" bash -c "kubectl -n finetune-system get deployment \
  finetune-operator -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name==\"FINETUNE_TRAINER_CPU_IMAGE\")].value}' \
  | grep -qx '$trainer_image'"

echo "== namespace $ns (restricted, default-deny), volumes, assets ($(elapsed))"
if kubectl get namespace "$ns" >/dev/null 2>&1; then
  kubectl delete namespace "$ns" --wait=true --timeout=180s >/dev/null
fi
restricted_namespace "$ns"
claims "$ns" models data outputs
kubectl apply -f - >/dev/null <<YAML
# Probes the policies from inside the namespace without any job's labels: only default-deny applies to it.
apiVersion: v1
kind: Pod
metadata: {name: netpol-probe, namespace: $ns, labels: {app: netpol-probe}}
spec:
  securityContext: $restricted_pod_security
  terminationGracePeriodSeconds: 1
  containers:
    - name: probe
      image: $trainer_image
      imagePullPolicy: Never
      command: [sleep, "3600"]
      resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: 100m, memory: 64Mi}}
      securityContext: $restricted_container
---
# The trainer image's own quickstart-assets fills the claims: the quickstart model and dataset, a 2000-record
# dataset for the (longer) resume run, and a copy of the quickstart dataset whose line 21 is cut short.
apiVersion: batch/v1
kind: Job
metadata: {name: assets, namespace: $ns}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext: $restricted_pod_security
      containers:
        - name: assets
          image: $trainer_image
          imagePullPolicy: Never
          command: [bash, -ec]
          args:
            - |
              finetune() { java -jar /opt/finetune/finetune-trainer.jar "\$@"; }
              finetune quickstart-assets --models /mnt/models --data /mnt/data
              finetune quickstart-assets --models /tmp/unused --data /mnt/data/long --records 2000
              mkdir -p /mnt/data/bad
              { head -n 20 /mnt/data/quickstart/train.jsonl
                echo '{"instruction": "Continue the sequence", "input": "3 4 5",'
                tail -n +21 /mnt/data/quickstart/train.jsonl; } > /mnt/data/bad/train.jsonl
          resources: {requests: {cpu: 500m, memory: 512Mi}, limits: {cpu: "1", memory: 1Gi}}
          securityContext: $restricted_container
          volumeMounts:
            - {name: models, mountPath: /mnt/models}
            - {name: data, mountPath: /mnt/data}
      volumes:
        - {name: models, persistentVolumeClaim: {claimName: models}}
        - {name: data, persistentVolumeClaim: {claimName: data}}
YAML
check "assets Job (quickstart-assets in the trainer image) completes" \
  kubectl -n "$ns" wait --for=condition=Complete job/assets --timeout=180s

# job NAME SETTINGS: examples/quickstart/finetunejob.yaml, in $ns, sized for this node, with SETTINGS
# (Python assignments on the parsed document `j`) applied.
job() {
  local name="$1" settings="${2:-}"
  kubectl create --dry-run=client -o json -f examples/quickstart/finetunejob.yaml | python3 -c "
import json, sys
j = json.load(sys.stdin)
j['metadata'] = {'name': '$name', 'namespace': '$ns'}
j['spec']['resources'].update({'cpu': '$cpu', 'memory': '$memory'})
j['spec']['output']['pvc']['path'] = 'runs/$name'
$settings
json.dump(j, sys.stdout)" | kubectl apply -f - >/dev/null
}
echo "== five FineTuneJobs ($(elapsed))"
job quickstart
job two-workers "j['spec']['resources']['workers'] = 2"
long="j['spec']['dataset']['pvc']['path'] = 'long/quickstart/train.jsonl'; j['spec']['training']['epochs'] = 3"
job resume-reference "$long"
job resume "$long"
job bad-data "j['spec']['dataset']['pvc']['path'] = 'bad/train.jsonl'"

# ---- 0. NetworkPolicy, while two-workers trains: the namespace's default-deny is enforced, and the operator's
# per-job policy is what opens exactly what a worker needs. Probed only after the ring formed: rank 0's rendezvous
# port stays bound (connections then wait in its backlog) but must not see a stray connection during rendezvous.
# The probes run in the background, so that they do not delay the preemption below (it must act while `resume`
# still trains); record writes each verdict to a file, reported with two-workers.
rank_pod() { pods_of two-workers 1 | grep -- "-attempt-1-$1-" || true; }
ring_formed() {
  local rank0 rank1
  rank0=$(rank_pod 0) rank1=$(rank_pod 1)
  [[ -n "$rank0" && -n "$rank1" ]] && log_has "$rank0" "rank 0 of 2 connected" && log_has "$rank1" "rank 1 of 2 connected"
}
# record "what" command...: runs the command, appends "what<TAB>exit code<TAB>its output on one line".
record() {
  local what="$1" out rc=0
  shift
  out=$("$@" 2>&1) || rc=$?
  printf '%s\t%s\t%s\n' "$what" "$rc" "$(tr '\n\t' '  ' <<<"$out")" >>"$work/netpol.tsv"
}
netpol_probes() {
  trap - EXIT
  record "two-workers: the ring formed (both ranks connected)" wait_for 240 "two-workers' ring" ring_formed
  kubectl -n "$ns" wait --for=condition=Ready pod/netpol-probe --timeout=60s >/dev/null || true
  local rank0 rank1 rank0_ip node_ip api_ip
  rank0=$(rank_pod 0) rank1=$(rank_pod 1)
  rank0_ip=$(kubectl -n "$ns" get pod "$rank0" -o jsonpath='{.status.podIP}' || true)
  node_ip=$(kubectl -n "$ns" get pod "$rank0" -o jsonpath='{.status.hostIP}' || true)
  api_ip=$(kubectl -n default get service kubernetes -o jsonpath='{.spec.clusterIP}' || true)
  # Probes that need the gang alive run first, while the job still trains; the unlabelled pod's own probes, which
  # do not depend on the job, last. A positive probe gets a second try (one failure could be a slow exec); a refused
  # probe from rank 0 counts only if rank 0 still runs afterwards.
  record "NetworkPolicy: rank 0 resolves names (the job's policy allows port 53)" \
    twice dns_from "$rank0" "kubernetes.default.svc.cluster.local"
  record "NetworkPolicy: rank 0 reaches the API server through $api_ip:443 (the policy names the endpoint behind it)" \
    twice tcp_from "$rank0" "$api_ip" 443
  record "NetworkPolicy: rank 1 reaches rank 0's rendezvous port ($rank0_ip:29500; the job's policy allows the gang)" \
    twice tcp_from "$rank1" "$rank0_ip" 29500
  record "NetworkPolicy: a pod without the job's labels cannot reach rank 0's rendezvous port (default-deny enforced)" \
    blocked tcp_from netpol-probe "$rank0_ip" 29500
  record "NetworkPolicy: rank 1 still reaches rank 0's port after that (so the probe was refused by policy)" \
    twice tcp_from "$rank1" "$rank0_ip" 29500
  # kubectl exec reaches kubelet at the node's address on 10250, so it listens there; the policy does not open it.
  record "NetworkPolicy: rank 0 cannot reach what its policy does not open (kubelet, $node_ip:10250)" \
    while_running "$rank0" blocked tcp_from "$rank0" "$node_ip" 10250
  record "NetworkPolicy: the pod without the job's labels cannot reach the API server ($api_ip:443)" \
    blocked tcp_from netpol-probe "$api_ip" 443
  record "NetworkPolicy: the pod without the job's labels cannot resolve names" \
    blocked dns_from netpol-probe "kubernetes.default.svc.cluster.local"
}
: >"$work/netpol.tsv"
netpol_probes &
netpol_pid=$!

# ---- 3. preemption, first: it has to act while the job runs
echo "== resume: delete the worker after the first checkpoint ($(elapsed))"
check "resume: Checkpointed=True during attempt 1" \
  wait_field 300 resume '{.status.conditions[?(@.type=="Checkpointed")].status}' True
checkpoint=$(jp resume '{.status.lastCheckpoint.path} (epoch {.status.lastCheckpoint.epoch})')
check "resume: still training when interrupted (phase Training, before the last epoch ended)" \
  matches "$(jp resume '{.status.phase} epoch {.status.progress.epoch}')" '^Training epoch [123]$'
victim=$(pods_of resume 1 | head -1)
echo "     deleting pod $victim (last checkpoint: $checkpoint)"
kubectl -n "$ns" delete pod "$victim" --wait=false >/dev/null

# ---- 4. bad data
echo "== bad-data ($(elapsed))"
check "bad-data: ends Failed" equals "$(wait_terminal bad-data 300)" Failed
failed_condition='{.status.conditions[?(@.type=="Failed")]'
check "bad-data: Failed=True, reason BadData" equals "$(jp bad-data "$failed_condition.status} $failed_condition.reason}")" "True BadData"
message=$(jp bad-data "$failed_condition.message}")
echo "     message: $message"
check "bad-data: the message names the line (file:line:column)" contains "$message" "bad/train.jsonl:21:"
check "bad-data: no restart (attempt 1, restarts 0)" equals "$(jp bad-data '{.status.attempt} {.status.restarts}')" "1 0"
check "bad-data: Stalled=True" equals "$(jp bad-data '{.status.conditions[?(@.type=="Stalled")].status}')" True
check "bad-data: Warning event Failed" contains "$(events_of bad-data)" "Failed	"
check "bad-data: one worker pod, exit code 65 (BAD_DATA)" equals \
  "$(kubectl -n "$ns" get pods -l finetune.dev/job=bad-data -o jsonpath='{range .items[*]}{.status.containerStatuses[0].state.terminated.exitCode}{" "}{end}')" "65 "

# ---- 1. happy path
echo "== quickstart ($(elapsed))"
check "quickstart: Succeeded" equals "$(wait_terminal quickstart 300)" Succeeded
status_json quickstart >"$work/quickstart.json"
check "quickstart: eval loss falls every epoch, PPL = exp(eval loss)" python3 "$here/check.py" history "$work/quickstart.json" 4
kubectl -n "$ns" get finetunejob quickstart >"$work/columns.txt"
sed 's/^/     /' "$work/columns.txt"
check "quickstart: kubectl get shows PHASE GPUS EPOCH EVAL-LOSS PPL of the final state" \
  python3 "$here/check.py" columns "$work/quickstart.json" "$work/columns.txt"
kubectl -n "$ns" get configmap quickstart-progress -o json --show-managed-fields >"$work/progress-cm.json"
check "quickstart: <job>-progress holds rank 0's final report, patched by the trainer itself" \
  python3 "$here/check.py" progress-configmap "$work/progress-cm.json" "$work/quickstart.json"
# A failed PATCH is superseded by the next report (the sender keeps only the newest, and every report carries the
# whole history), so what users see is asserted above: the final report arrived. Transient failures are reported,
# not failed on: one first-PATCH connect timeout in four runs is unexplained so far (docs/testing.md).
patch_failures=$(kubectl -n "$ns" logs "$(pods_of quickstart 1 | head -1)" | grep -c 'warning: progress PATCH' || true)
echo "INFO quickstart: ${patch_failures:-0} progress PATCH(es) of the worker failed and were superseded"
condition() { jp quickstart "{.status.conditions[?(@.type==\"$1\")].status} {.status.conditions[?(@.type==\"$1\")].reason}"; }
check "quickstart: Succeeded=True Succeeded" equals "$(condition Succeeded)" "True Succeeded"
check "quickstart: Ready=True Succeeded" equals "$(condition Ready)" "True Succeeded"
check "quickstart: Stalled=False, Failed=False" equals "$(condition Stalled) / $(condition Failed)" "False Succeeded / False NoFailure"
check "quickstart: Checkpointed=True" equals "$(condition Checkpointed)" "True CheckpointSaved"
check "quickstart: attempt 1, no restart" equals "$(jp quickstart '{.status.attempt} {.status.restarts}')" "1 0"
events=$(events_of quickstart)
for reason in WorkersStarted Evaluated CheckpointSaved Succeeded; do
  check "quickstart: event $reason" contains "$events" "$reason	"
done
check "quickstart: one Evaluated event per epoch" equals "$(grep -c '^Evaluated' <<<"$events")" 4

# The output volume, read through a pod that mounts it (and the model, for the expected shapes).
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: reader, namespace: $ns}
spec:
  restartPolicy: Never
  securityContext: $restricted_pod_security
  containers:
    - name: reader
      image: $trainer_image
      imagePullPolicy: Never
      command: [sleep, "600"]
      resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: 100m, memory: 64Mi}}
      securityContext: $restricted_container
      volumeMounts:
        - {name: outputs, mountPath: /mnt/outputs, readOnly: true}
        - {name: models, mountPath: /mnt/models, readOnly: true}
  volumes:
    - {name: outputs, persistentVolumeClaim: {claimName: outputs, readOnly: true}}
    - {name: models, persistentVolumeClaim: {claimName: models, readOnly: true}}
YAML
kubectl -n "$ns" wait --for=condition=Ready pod/reader --timeout=120s >/dev/null
mkdir -p "$work/volume"
kubectl -n "$ns" exec reader -- tar cf - -C /mnt/outputs --exclude=checkpoints --exclude=epochs runs/quickstart \
  | tar xf - -C "$work/volume"
kubectl -n "$ns" exec reader -- tar cf - -C /mnt/models quickstart-llama/config.json | tar xf - -C "$work/volume"
check "quickstart: the output volume holds a PEFT adapter, manifest.json and report.html" \
  python3 "$here/check.py" adapter "$work/volume/runs/quickstart" "$work/volume/quickstart-llama" "$work/quickstart.json"
check "quickstart: the newest 2 checkpoints are kept (keepCheckpoints: 2)" \
  equals "$(kubectl -n "$ns" exec reader -- ls /mnt/outputs/runs/quickstart/checkpoints | tr '\n' ' ')" "checkpoint-135 checkpoint-180 "

# ---- 0. NetworkPolicy, the verdicts
echo "== NetworkPolicy, probed while two-workers trained ($(elapsed))"
wait "$netpol_pid" || true
verdict() { [[ -n "$2" ]] && echo "$2"; [[ "$1" == 0 ]]; }
while IFS=$'\t' read -r what rc out; do check "$what" verdict "$rc" "$out"; done <"$work/netpol.tsv"
check "NetworkPolicy: all 9 probes ran" equals "$(wc -l <"$work/netpol.tsv")" 9

# ---- 2. two CPU workers
echo "== two-workers ($(elapsed))"
check "two-workers: Succeeded" equals "$(wait_terminal two-workers 300)" Succeeded
status_json two-workers >"$work/two-workers.json"
check "two-workers: eval loss falls every epoch, PPL = exp(eval loss)" python3 "$here/check.py" history "$work/two-workers.json" 4
check "two-workers: GPUS column 2xcpu" equals "$(jp two-workers '{.status.display.gpus}')" 2xcpu
for rank in 0 1; do
  pod=$(pods_of two-workers 1 | grep -- "-attempt-1-$rank-" || true)
  log=$(kubectl -n "$ns" logs "$pod" 2>&1 || true)
  check "two-workers: pod $pod (rank $rank) connected to the ring" contains "$log" "rank $rank of 2 connected"
  if ((rank == 1)); then
    # rank 0 reports the steps in status; rank 1 says where it stopped: the same step, in lockstep
    check "two-workers: rank 1 finished at the step rank 0 reports" contains "$log" "rank 1 done at step $(jp two-workers '{.status.progress.totalSteps}')"
  fi
done

# ---- 3. preemption, continued
echo "== resume, continued ($(elapsed))"
check "resume: Succeeded" equals "$(wait_terminal resume 420)" Succeeded
check "resume-reference: Succeeded" equals "$(wait_terminal resume-reference 420)" Succeeded
check "resume: gang restarted once (attempt 2, restarts 1)" equals "$(jp resume '{.status.attempt} {.status.restarts}')" "2 1"
events=$(events_of resume)
restarted=$(grep '^Restarted' <<<"$events" || true)
echo "     $restarted"
check "resume: Restarted event: attempt 1 interrupted, resumed from a checkpoint" \
  matches "$restarted" 'Attempt 1 failed \(Interrupted\).*as attempt 2 from checkpoint checkpoints/checkpoint-[0-9]+'
log=$(kubectl -n "$ns" logs "$(pods_of resume 2 | head -1)" 2>&1 || true)
check "resume: attempt 2 resumed from the checkpoint" contains "$log" "resumed from"
status_json resume >"$work/resume.json"
status_json resume-reference >"$work/resume-reference.json"
check "resume: eval loss falls every epoch, PPL = exp(eval loss)" python3 "$here/check.py" history "$work/resume.json" 3
check "resume: every epoch's eval loss equals the uninterrupted run's" \
  python3 "$here/check.py" resumed-equals "$work/resume-reference.json" "$work/resume.json"

echo
echo "($(elapsed))"
if ((fail == 0)); then
  kubectl delete namespace "$ns" --wait=false >/dev/null
fi
summary "trainer e2e"
