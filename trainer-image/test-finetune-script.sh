#!/usr/bin/env bash
# Checks the `finetune` launcher script without a build: a stand-in jar and a stand-in Java 25 that prints the
# environment the real one would get. PASS/FAIL per check; exits 1 when one fails.
#   bash trainer-image/test-finetune-script.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
source "$here/../e2e/lib/common.sh"   # check, summary, equals, contains
mkdir -p "$work/app/target" "$work/jdk/bin" "$work/home" "$work/tmp"
cp "$here/finetune" "$work/app/finetune"
touch "$work/app/target/finetune-trainer-0.jar"
cat >"$work/jdk/bin/java" <<'STUB'
#!/bin/bash
# a Java 25 that, instead of running the jar, says where DJL would unpack its native libraries
if [[ "$1" == -XshowSettings:properties ]]; then echo "    java.specification.version = 25" >&2; exit 0; fi
echo "DJL_CACHE_DIR=$DJL_CACHE_DIR"
STUB
chmod +x "$work/jdk/bin/java"
launch() { env -u XDG_CACHE_HOME -u DJL_CACHE_DIR "$@" JAVA_HOME="$work/jdk" bash "$work/app/finetune" --help; }
passwd_home="$(getent passwd "$(id -u)" | cut -d: -f6)"

# the cache in the user's home, as before
check "HOME set: the cache is under HOME" \
  equals "$(launch HOME="$work/home" TMPDIR="$work/tmp")" "DJL_CACHE_DIR=$work/home/.cache/finetune/djl"
# HOME unset (a cron job, `env -i`): bash's `set -u` used to end the script with "HOME: unbound variable", exit 1
check "HOME unset: the password database's home, as Java's user.home" \
  equals "$(launch -u HOME TMPDIR="$work/tmp" 2>&1)" "DJL_CACHE_DIR=$passwd_home/.cache/finetune/djl"
# a HOME nobody can write (an arbitrary UID in a container): the tokenizer failed to load and the error blamed tokenizer.json
check "HOME not writable: a per-user directory under TMPDIR" \
  equals "$(launch HOME=/proc/self TMPDIR="$work/tmp" 2>&1)" "DJL_CACHE_DIR=$work/tmp/finetune-$(id -u)/djl"
check "DJL_CACHE_DIR given: taken as it is" \
  equals "$(launch HOME=/proc/self DJL_CACHE_DIR=/proc/self/given 2>&1)" "DJL_CACHE_DIR=/proc/self/given"
nowhere_rc=0
nowhere="$(launch HOME=/proc/self TMPDIR=/proc/self 2>&1)" || nowhere_rc=$?
check "no writable place at all: OUTPUT_UNWRITABLE (exit 73) naming the variables to set" \
  equals "$nowhere_rc $(grep -c 'set DJL_CACHE_DIR (or XDG_CACHE_HOME, or TMPDIR)' <<<"$nowhere")" "73 1"
summary "finetune script"
