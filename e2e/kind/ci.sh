#!/usr/bin/env bash
# The kind part of a CI run (.ci/run may call it or copy its lines): installs what a fresh
# machine lacks from Debian, checks the runtime wrapper, builds (cached; cold an estimated
# 22-35 min on 2 cores, most of it the Kubernetes build shared with e2e/cluster; see
# docs/decisions.md, "Kind and the host-process cluster"), creates a kind cluster, runs its
# smoke test, and leaves the cluster up for the e2e tests that follow: it prints KUBECONFIG=<path> as
# its last line. Delete it afterwards with: bash e2e/kind/kind.sh down --name "$NAME".
# With --registry it also checks lib/registry.sh (test-registry.sh) and starts the local registry
# (kind.sh registry up) before the smoke, whose pull check then runs; stop it afterwards with:
# bash e2e/kind/kind.sh registry down.
#
#   bash e2e/kind/ci.sh [--name NAME] [--registry]     (default name: finetune-ci)
#
# Prints "timing: ..." lines for each step (docs/testing.md, "Kind").
set -euo pipefail
cd "$(dirname "$0")/../.."

name="finetune-ci"
registry=false
while (($#)); do
  case "$1" in
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    --registry) registry=true; shift ;;
    *) echo "ci.sh: unknown argument '$1' (usage: ci.sh [--name NAME] [--registry])" >&2; exit 2 ;;
  esac
done

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
if [[ "$registry" == true ]]; then
  step "the local registry's checks"
  bash e2e/kind/test-registry.sh >&2
fi

t1=$SECONDS
step "kind.sh up --name $name"
bash e2e/kind/kind.sh up --name "$name" | tee /tmp/finetune-kind-ci-up.out >&2
echo "timing: kind.sh up $((SECONDS - t1))s" >&2

if [[ "$registry" == true ]]; then
  t3=$SECONDS
  step "kind.sh registry up --name $name"
  bash e2e/kind/kind.sh registry up --name "$name" >&2
  echo "timing: kind.sh registry up $((SECONDS - t3))s" >&2
fi

t2=$SECONDS
step "kind.sh smoke --name $name"
bash e2e/kind/kind.sh smoke --name "$name" >&2
echo "timing: kind.sh smoke $((SECONDS - t2))s" >&2

echo "timing: ci.sh total $((SECONDS - t0))s" >&2
tail -n 1 /tmp/finetune-kind-ci-up.out
