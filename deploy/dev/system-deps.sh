#!/usr/bin/env bash
# Installs the system programs the test suite starts or calls: the PostgreSQL server
# (the storage tests run against it), ffmpeg and espeak-ng (voice tests).
# Debian/Ubuntu via apt-get (as root), macOS via Homebrew. Prints what is missing otherwise.
set -euo pipefail

have_initdb() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

missing=()
have_initdb || missing+=(postgresql)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]}"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
elif command -v brew >/dev/null 2>&1; then
  for p in "${missing[@]}"; do
    case "$p" in postgresql) brew install postgresql@16 ;; *) brew install "$p" ;; esac
  done
else
  echo "system-deps: please install: ${missing[*]} (no apt-get or brew found)" >&2
  exit 1
fi
