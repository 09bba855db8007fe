#!/usr/bin/env bash
# Builds the operator image without a registry: the Quarkus fast-jar, then FROM local/jre:25.
# Usage: bash operator/build-image.sh [tag]      (default finetune/operator:dev)
# Needs local/jre:25 (bash e2e/images/base.sh); load into the e2e cluster with
#   bash e2e/kind/kind.sh load finetune/operator:dev --name <cluster>
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-finetune/operator:dev}"
source hack/java25.sh
docker image inspect local/jre:25 >/dev/null 2>&1 || { echo "local/jre:25 missing: run bash e2e/images/base.sh" >&2; exit 1; }
mvn -B -q -pl operator -am package -DskipTests
docker build -q -f operator/src/main/docker/Dockerfile -t "$tag" operator
echo "$tag"
