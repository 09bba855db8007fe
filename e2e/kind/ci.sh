#!/usr/bin/env bash
# The kind part of a CI run (.ci/run may call it or copy its lines): installs what a fresh
# machine lacks from Debian, checks the runtime wrapper, builds (cached; cold an estimated
# 22-35 min on 2 cores, most of it the Kubernetes build shared with e2e/cluster; see
# docs/decisions.md, "Kind and the host-process cluster"), creates a kind cluster, runs its
# smoke test, and leaves the cluster up for the e2e tests that follow: it prints KUBECONFIG=<path> as
# its last line. Delete it afterwards with: bash e2e/kind/kind.sh down --name "$NAME".
#
#   bash e2e/kind/ci.sh [--name NAME]       (default name: finetune-ci)
#
# Prints "timing: ..." lines for each step (docs/testing.md, "Kind").
set -euo pipefail
cd "$(dirname "$0")/../.."

name="finetune-ci"
if [[ "${1:-}" == --name ]]; then name="${2:?--name needs a value}"; fi

t0=$SECONDS
step() { echo "[ci] $*" >&2; }

step "Debian packages"
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in docker.io debootstrap jq iptables ipset conntrack ca-certificates curl; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "timing: Debian packages $((SECONDS - t0))s" >&2

step "the runtime wrapper's checks"
bash e2e/kind/test-runc-nosysres.sh >&2

t1=$SECONDS
step "kind.sh up --name $name"
bash e2e/kind/kind.sh up --name "$name" | tee /tmp/finetune-kind-ci-up.out >&2
echo "timing: kind.sh up $((SECONDS - t1))s" >&2

t2=$SECONDS
step "kind.sh smoke --name $name"
bash e2e/kind/kind.sh smoke --name "$name" >&2
echo "timing: kind.sh smoke $((SECONDS - t2))s" >&2

echo "timing: ci.sh total $((SECONDS - t0))s" >&2
tail -n 1 /tmp/finetune-kind-ci-up.out
