#!/usr/bin/env bash
# Copies the generated CRD (crds/, the single source) into the kustomize base and the Helm chart.
# The operator module's DeployManifestsTest fails when these copies are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in deploy/kustomize/base/crd deploy/helm/finetune-operator/crds; do
  cp crds/finetunejobs.finetune.dev-v1.yml "$dir/"
done
