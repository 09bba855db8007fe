# Sourced by the project's scripts: selects a JDK 25+ (the machine default may be 17).
# Honours a JAVA_HOME that already points at 25+; else picks the newest JDK >= 25 under /usr/lib/jvm.
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ] || [ "$(java_major "$JAVA_HOME")" -lt 25 ] 2>/dev/null; then
  JAVA_HOME=""
  for candidate in /usr/lib/jvm/*; do
    if [ -x "$candidate/bin/javac" ] && [ "$(java_major "$candidate")" -ge 25 ] 2>/dev/null; then
      JAVA_HOME="$candidate"
    fi
  done
  if [ -z "$JAVA_HOME" ]; then
    echo "error: no JDK 25 or newer found under /usr/lib/jvm; install Temurin 25 (or set JAVA_HOME to a JDK 25+)" >&2
    exit 1
  fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
