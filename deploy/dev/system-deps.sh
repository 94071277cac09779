#!/usr/bin/env bash
# Installs the system programs the test suite starts or calls: the PostgreSQL server
# (the storage tests run against it), ffmpeg and espeak-ng (voice tests), promtool and amtool
# (Prometheus rules and the Alertmanager config in deploy/prometheus/ are checked by tests).
# Debian/Ubuntu via apt-get (as root), macOS via Homebrew. Prints what is missing otherwise.
set -euo pipefail

have_initdb() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

missing=()
# A C++ compiler builds llama-cpp-python once (the embedded model); `make run` needs only this
# (`--build-only`), the test suite needs everything.
command -v c++ >/dev/null 2>&1 || missing+=(g++)
if [ "${1:-}" != "--build-only" ]; then
  have_initdb || missing+=(postgresql)
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
  command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]}"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
  SUDO=sudo
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
elif command -v brew >/dev/null 2>&1; then
  for p in "${missing[@]}"; do
    case "$p" in
      postgresql) brew install postgresql@16 ;;
      prometheus-alertmanager) brew install alertmanager ;;
      g++) echo "system-deps: install the Xcode command line tools: xcode-select --install" >&2 ;;
      *) brew install "$p" ;;
    esac
  done
else
  echo "system-deps: please install: ${missing[*]} (no apt-get or brew found)" >&2
  exit 1
fi

# Debian's prometheus packages start their servers on install; the suite only needs the
# promtool and amtool commands, so servers this script just installed are stopped again.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for p in "${missing[@]}"; do
    case "$p" in
      prometheus | prometheus-alertmanager)
        ${SUDO:-} systemctl disable --now "$p" >/dev/null 2>&1 || true ;;
    esac
  done
fi
