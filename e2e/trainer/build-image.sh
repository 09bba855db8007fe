#!/usr/bin/env bash
# Builds the CPU trainer image without a registry: the trainer jar and its libs, then trainer-image/Dockerfile.cpu
# FROM local/jre:25 (bash e2e/images/base.sh). Usage: bash e2e/trainer/build-image.sh [tag]
# (default local/finetune-trainer:cpu, the image e2e/trainer/operator configures for CPU jobs). Load it into a Kind cluster:
#   bash e2e/kind/kind.sh load local/finetune-trainer:cpu --name <cluster>
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-local/finetune-trainer:cpu}"
source hack/java25.sh
docker image inspect local/jre:25 >/dev/null 2>&1 || { echo "local/jre:25 missing: run bash e2e/images/base.sh" >&2; exit 1; }
mvn -B -q -pl trainer-image -am package -DskipTests
docker build -q -f trainer-image/Dockerfile.cpu -t "$tag" trainer-image
echo "$tag"
