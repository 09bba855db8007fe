#!/usr/bin/env bash
# The project's test command (README): unit tests, operator tests against the Fabric8 mock API server,
# trainer tests on CPU with tiny models the tests make, CRD and example checks. Extra arguments go to
# Maven, e.g. `bash test.sh -Pslow` adds the slow suites (*IT).
set -euo pipefail
cd "$(dirname "$0")"
source hack/java25.sh
if ! command -v mvn >/dev/null; then
  echo "error: Maven is not installed (Debian/Ubuntu: sudo apt-get install maven)" >&2
  exit 1
fi
exec mvn -B -ntp verify "$@"
