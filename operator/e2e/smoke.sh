#!/usr/bin/env bash
# Operator smoke test on a real cluster (KUBECONFIG must point at it, e.g. the project's e2e cluster:
# bash e2e/cluster/cluster.sh up). Installs the operator from deploy/kustomize/base, then in a namespace
# with Pod Security "restricted" and a default-deny NetworkPolicy runs a CPU FineTuneJob whose "trainer"
# is a stand-in image that exits 0 (the image under test here is the operator, not the trainer), and checks:
# children, the job's NetworkPolicy naming the API server's endpoint, worker pod hardening, the workers' RBAC (may patch <job>-progress, nothing else), status and
# conditions through to Succeeded, and that the operator's status reads what rank 0 writes.
#
#   bash operator/e2e/smoke.sh [trainer-stand-in-image]     (default local/e2e-smoke:1)
# Images must be in the cluster already (bash e2e/cluster/cluster.sh load-image finetune/operator:dev ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
image="${1:-local/e2e-smoke:1}"
ns=ft-smoke
job=smoke
source e2e/lib/common.sh

install_operator deploy/kustomize/base FINETUNE_TRAINER_IMAGE="$image"
restricted_namespace "$ns"
claims "$ns" outputs models

# A claim that does not exist yet: the job must wait, saying which.
kubectl apply -f - >/dev/null <<YAML
apiVersion: finetune.dev/v1alpha1
kind: FineTuneJob
metadata: {name: $job, namespace: $ns}
spec:
  model: {pvc: {claimName: models, path: tiny}}
  dataset: {pvc: {claimName: data, path: train.jsonl}}
  training: {epochs: 1, precision: fp32}
  resources: {gpus: 0, workers: 2, cpu: 100m, memory: 128Mi}
  output: {pvc: {claimName: outputs, path: runs/smoke}}
  image: $image
YAML
check "missing claim: Validated=False PvcNotFound" wait_field 60 "$job" '{.status.conditions[?(@.type=="Validated")].reason}' PvcNotFound
check "missing claim: no workers" bash -c "! kubectl -n $ns get job $job-attempt-1"

claims "$ns" data
check "claim created: Validated=True" wait_field 120 "$job" '{.status.conditions[?(@.type=="Validated")].status}' True
for child in configmap/$job-config configmap/$job-progress service/$job-workers serviceaccount/$job-trainer \
             role/$job-trainer rolebinding/$job-trainer networkpolicy/$job job/$job-attempt-1; do
  check "child $child" kubectl -n "$ns" get "$child"
done
# The cluster enforces NetworkPolicy (e2e/cluster runs kube-router's policy controller), and policies see traffic
# after kube-proxy translated the kubernetes Service: the job's policy must name the API server's endpoint.
api_endpoint=$(kubectl -n default get endpointslices -l kubernetes.io/service-name=kubernetes \
  -o jsonpath='{.items[0].endpoints[0].addresses[0]}/32:{.items[0].ports[0].port}')
policy_api_rule=$(kubectl -n "$ns" get networkpolicy "$job" \
  -o jsonpath='{.spec.egress[?(@.to[0].ipBlock)].to[0].ipBlock.cidr}:{.spec.egress[?(@.to[0].ipBlock)].ports[0].port}')
check "NetworkPolicy $job opens the API server's endpoint ($api_endpoint), not the Service's ClusterIP" \
  test "$policy_api_rule" = "$api_endpoint"
sa=system:serviceaccount:$ns:$job-trainer
check "workers may patch their progress ConfigMap" kubectl auth can-i patch configmap/$job-progress -n "$ns" --as "$sa"
check "workers may not patch other ConfigMaps" bash -c "! kubectl auth can-i patch configmap/$job-config -n $ns --as $sa"
check "workers may not read Secrets" bash -c "! kubectl auth can-i get secrets -n $ns --as $sa"
check "worker pods admitted under PSA restricted" bash -c "kubectl -n $ns get pods -l finetune.dev/job=$job -o name | grep -q ."

# rank 0's report, written with the workers' own identity
report='{"schemaVersion":1,"sequence":5,"attempt":1,"state":"TRAINING","progress":{"epoch":1,"totalEpochs":1,"step":10,"totalSteps":20,"evalLoss":2.5731,"perplexity":13.108},"history":[{"epoch":1,"step":10,"evalLoss":2.5731,"perplexity":13.108}]}'
check "rank 0 identity patches the report" kubectl -n "$ns" patch configmap "$job-progress" --as "$sa" --type merge \
  -p "$(printf '{"data":{"progress.json":%s}}' "$(printf '%s' "$report" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')")"
check "status shows the eval loss" wait_field 60 "$job" '{.status.display.evalLoss}' 2.573
check "job succeeds when the workers exit 0" wait_field 300 "$job" '{.status.phase}' Succeeded
check "Ready=True Succeeded" wait_field 10 "$job" '{.status.conditions[?(@.type=="Ready")].reason}' Succeeded
check "Events recorded" bash -c "kubectl -n $ns get events --field-selector involvedObject.name=$job -o name | grep -q ."

kubectl delete namespace "$ns" --wait=false >/dev/null
summary "operator smoke"
