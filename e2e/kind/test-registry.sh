#!/usr/bin/env bash
# Checks lib/registry.sh without a cluster: the names images get, the nodes' containerd configuration (parsed as
# TOML), the cluster configuration's containerd patch, and the registry itself (the cached binary of
# hack/build-registry.sh) with its two listeners on loopback addresses: the push one takes a blob, the pull one
# serves it and refuses uploads; 'up' twice keeps the processes, 'down' stops them and deletes the storage.
# PASS/FAIL per check; exits 1 when one fails.
#   bash e2e/kind/test-registry.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
source "$here/lib/common.sh"     # log, die, wait_for, check, summary
source "$here/lib/cluster.sh"    # kind_config
source "$here/lib/registry.sh"
REGISTRY_RUN_DIR="$work/run"
REGISTRY_DATA_DIR="$work/data"
REGISTRY_LOG_DIR="$work/log"
cleanup() { stop_registry >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# toml_get PATH...: the value at PATH of the TOML document on stdin (python3's tomllib), or fails.
toml_get() {
  python3 -c '
import sys, tomllib
value = tomllib.loads(sys.stdin.read())
for key in sys.argv[1:]:
    value = value[key]
print(value)' "$@"
}

fails() { ! "$@"; }

REGISTRY_PORT=5001
check "an image's registry name is localhost:PORT/<its local name>" \
  equals "$(registry_reference finetune/operator:dev-reg)" "localhost:5001/finetune/operator:dev-reg"
REGISTRY_PORT=5123
check "the port is part of the name" equals "$(registry_reference local/e2e-smoke:1)" "localhost:5123/local/e2e-smoke:1"
check "an image named by digest is refused with the reason" \
  contains "$( (registry_reference local/x@sha256:0123) 2>&1 || true)" "not by digest"
check "an image already named localhost:PORT/... is refused" \
  contains "$( (registry_reference localhost:5001/local/x:1) 2>&1 || true)" "already names a local registry"

hosts="$(registry_hosts_toml 172.29.0.1)"
check "hosts.toml: the name localhost:PORT is served by http://GATEWAY:PORT" \
  equals "$(toml_get server <<<"$hosts")" "http://172.29.0.1:5123"
check "hosts.toml: that host may pull and resolve, nothing else" \
  equals "$(toml_get host http://172.29.0.1:5123 capabilities <<<"$hosts")" "['pull', 'resolve']"

# The containerd patch: the lines of the YAML block scalar after 'containerdConfigPatches:', unindented.
patch="$(kind_config | sed -n '/^containerdConfigPatches:/,$p' | sed -n '3,$p' | sed 's/^  //')"
check "kind_config: containerd reads registry hosts from $REGISTRY_CERTS_DIR" \
  equals "$(toml_get plugins io.containerd.grpc.v1.cri registry config_path <<<"$patch")" "$REGISTRY_CERTS_DIR"

check "kind.sh refuses a port that is not one" \
  contains "$(bash "$here/kind.sh" push x --port 70000 2>&1 || true)" "use a TCP port number"
check "kind.sh push without a registry says how to start it" \
  contains "$(FINETUNE_KIND_REGISTRY_PORT=1 bash "$here/kind.sh" push local/x:1 2>&1 || true)" "kind.sh registry up"

# The real registry: push listener on 127.0.0.1, pull listener on 127.0.0.2 (the gateway's stand-in), one storage.
REGISTRY_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
start_registry_listener push "127.0.0.1:$REGISTRY_PORT" false 2>/dev/null
start_registry_listener pull "127.0.0.2:$REGISTRY_PORT" true 2>/dev/null
push_pid="$(cat "$(registry_state_dir)/push.pid")"
pull_pid="$(cat "$(registry_state_dir)/pull.pid")"
printf 'layer bytes %s\n' "$RANDOM" >"$work/blob"
digest="sha256:$(sha256sum "$work/blob" | cut -d' ' -f1)"

# upload ADDR: a monolithic blob upload of $work/blob to repository test/blob; prints the HTTP status of its start
# (202) and of the upload (201) on one line.
upload() {
  local location start put
  start="$(curl -s -o /dev/null -D "$work/headers" -w '%{http_code}' -X POST "http://$1/v2/test/blob/blobs/uploads/")"
  location="$(sed -n 's/^[Ll]ocation: *//p' "$work/headers" | tr -d '\r')"
  [[ "$location" == http* ]] || location="http://$1$location"
  [[ "$location" == *\?* ]] && location+="&digest=$digest" || location+="?digest=$digest"
  put="$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$work/blob" "$location")"
  echo "$start $put"
}
check "the push listener (127.0.0.1) takes a blob" equals "$(upload "127.0.0.1:$REGISTRY_PORT")" "202 201"
check "the pull listener (the gateway's address) serves it from the shared storage" \
  equals "$(curl -fsS "http://127.0.0.2:$REGISTRY_PORT/v2/test/blob/blobs/$digest")" "$(cat "$work/blob")"
check "the pull listener refuses uploads (405: read-only)" \
  matches "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.2:$REGISTRY_PORT/v2/test/blob/blobs/uploads/")" '^405$'
size="$(stat -c %s "$work/blob")"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
  "$digest" "$size" "$digest" "$size" >"$work/manifest"
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary "@$work/manifest" "http://127.0.0.1:$REGISTRY_PORT/v2/test/blob/manifests/t1"
check "registry_digest: the digest the registry names a tagged manifest by (sha256 of its bytes)" \
  equals "$(registry_digest test/blob:t1)" "sha256:$(sha256sum "$work/manifest" | cut -d' ' -f1)"
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary "@$work/manifest" "http://127.0.0.1:$REGISTRY_PORT/v2/test/blob/manifests/latest"
check "registry_digest: an image without a tag is :latest" \
  equals "$(registry_digest test/blob)" "sha256:$(sha256sum "$work/manifest" | cut -d' ' -f1)"
check "registry_digest: an unknown tag fails" fails registry_digest test/blob:nope
start_registry_listener push "127.0.0.1:$REGISTRY_PORT" false 2>/dev/null
start_registry_listener pull "127.0.0.2:$REGISTRY_PORT" true 2>/dev/null
check "starting it again keeps both running processes" \
  equals "$(cat "$(registry_state_dir)/push.pid") $(cat "$(registry_state_dir)/pull.pid")" "$push_pid $pull_pid"
stop_registry 2>/dev/null
sleep 0.5
check "down stops both listeners" bash -c "! kill -0 $push_pid 2>/dev/null && ! kill -0 $pull_pid 2>/dev/null"
check "down deletes the storage and the state" bash -c "[[ ! -e '$(registry_storage_dir)' && ! -e '$(registry_state_dir)' ]]"

summary test-registry
