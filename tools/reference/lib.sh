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
# test dependencies too) to the file $1.
trainer_classpath() {
  local out="$1" scope="${2:-runtime}" extra=""
  [[ "$scope" == test ]] && extra=":$repo/trainer-image/target/test-classes"
  # one reactor build, so the project's own modules (api, jinja) resolve to their target/classes; each module
  # writes the file in turn and trainer-image, built last, leaves its classpath
  (cd "$repo" && mvn -B -q ${MAVEN_OFFLINE:+-o} -pl trainer-image -am test-compile dependency:build-classpath \
    -Dmdep.includeScope="$scope" -Dmdep.outputFile="$out.deps" >/dev/null)
  echo "$repo/trainer-image/target/classes$extra:$(cat "$out.deps")" > "$out"
  rm -f "$out.deps"
}
