# Sourced by fetch-tokenizers.sh and fetch-cuda-libs.sh: a cache entry appears whole or not at all, also
# when several builds fetch at once.

# stage_entry CACHE_ROOT: a fresh staging directory on the cache's filesystem (so publishing is a rename).
stage_entry() {
  mktemp -d "$1/.staging.XXXXXX"
}

# publish_entry STAGED DIR WORK: renames STAGED to DIR atomically (a concurrent build that got there first
# wins, and this copy is dropped), then removes the download directory WORK and its EXIT trap.
publish_entry() {
  chmod 755 "$1"
  if ! mv -T "$1" "$2" 2>/dev/null; then
    rm -rf "$1"
  fi
  rm -rf "$3"
  trap - EXIT
}
