#!/usr/bin/env bash
# Checks runc-nosysres without starting a container: a stand-in runc records the arguments and
# the files it is handed. Exits 1 when a check fails. Needs jq.
#   bash e2e/kind/test-runc-nosysres.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source "$here/../lib/common.sh"   # check, summary
cat >"$work/runc" <<STUB
#!/bin/bash
printf '%s\n' "\$@" >"$work/args"
STUB
chmod +x "$work/runc"
export FINETUNE_KIND_REAL_RUNC="$work/runc"
caps='["CAP_CHOWN","CAP_SYS_RESOURCE","CAP_SYS_ADMIN"]'

mkdir -p "$work/bundle"
echo "{\"ociVersion\":\"1.0.2\",\"process\":{\"capabilities\":{\"bounding\":$caps,\"effective\":$caps,\"permitted\":$caps}},\"root\":{\"path\":\"rootfs\"}}" \
  >"$work/bundle/config.json"
"$here/runc-nosysres" --root /run/x --log /tmp/log create --bundle "$work/bundle" --pid-file /tmp/pid ctr1
check "create: CAP_SYS_RESOURCE gone from every capability set" \
  test "$(jq -c '[.process.capabilities[] | index("CAP_SYS_RESOURCE")] | unique' "$work/bundle/config.json")" == '[null]'
check "create: the other capabilities stay" \
  test "$(jq -c '.process.capabilities.bounding' "$work/bundle/config.json")" == '["CAP_CHOWN","CAP_SYS_ADMIN"]'
check "create: the rest of config.json is untouched" test "$(jq -r '.root.path' "$work/bundle/config.json")" == rootfs
check "create: runc got the same arguments" \
  test "$(paste -sd' ' "$work/args")" == "--root /run/x --log /tmp/log create --bundle $work/bundle --pid-file /tmp/pid ctr1"

echo "{\"args\":[\"sh\"],\"capabilities\":{\"bounding\":$caps,\"effective\":$caps}}" >"$work/process.json"
"$here/runc-nosysres" exec --process "$work/process.json" --detach ctr1
check "exec --process: CAP_SYS_RESOURCE gone" \
  test "$(jq -c '.capabilities.effective' "$work/process.json")" == '["CAP_CHOWN","CAP_SYS_ADMIN"]'

echo '{"args":["sh"]}' >"$work/plain.json"
"$here/runc-nosysres" exec --process="$work/plain.json" ctr1
check "exec without capabilities: file unchanged" test "$(cat "$work/plain.json")" == '{"args":["sh"]}'

"$here/runc-nosysres" state ctr1
check "other commands pass through" test "$(paste -sd' ' "$work/args")" == "state ctr1"

summary runc-nosysres
