# Sourced by the scripts that run Python (HF Transformers + PEFT) beside the Java trainer:
# tools/reference/interop.sh and bench/side-by-side/run.sh. Defines $repo, $venv, selects a JDK 25+.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${FINETUNE_REF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/finetune/refvenv}"
source "$repo/hack/java25.sh"

# The pinned reference venv (shared with tools/reference/generate.sh), with the packages of a requirements file.
reference_venv() {
  if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$1"
}

# Builds trainer-image and writes its classpath (classes + dependencies; with "test", test classes and
# test dependencies too) to the file $1. One reactor build (-am): the project's own modules (finetune-api)
# come from the reactor, so nothing of the project needs to be installed in ~/.m2. On failure it prints
# Maven's output and why, and returns non-zero.
trainer_classpath() {
  local out="$1" scope="${2:-runtime}" extra="" log
  [[ "$scope" == test ]] && extra=":$repo/trainer-image/target/test-classes"
  log="$(mktemp)"
  # one reactor build, so the project's own modules (api, jinja) resolve to their target/classes; each module
  # writes the file in turn and trainer-image, built last, leaves its classpath
  if ! (cd "$repo" && mvn -B -ntp -q ${MAVEN_OFFLINE:+-o} -pl trainer-image -am test-compile dependency:build-classpath \
      -Dmdep.includeScope="$scope" -Dmdep.outputFile="$out.deps") >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "error: building trainer-image and its classpath failed (mvn -pl trainer-image -am test-compile" \
      "dependency:build-classpath, output above); fix the build, then run this script again" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  echo "$repo/trainer-image/target/classes$extra:$(cat "$out.deps")" > "$out"
  rm -f "$out.deps"
}
