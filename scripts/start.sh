#!/usr/bin/env bash
# Builds skiff and starts what exists of it today, from a fresh Debian 12 machine (as root).
# Today skiff is its store: this builds the binary, installs it as /usr/local/bin/skiff,
# opens the embedded store in the data directory and shows how to use it. The API server
# (`skiff server`) arrives with the next issues and will be started here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
skiff_install_deps

DATA_DIR=${SKIFF_DATA_DIR:-/var/lib/skiff}
cargo build --release --locked -p skiff-cli
install -m 0755 target/release/skiff /usr/local/bin/skiff
mkdir -p "$DATA_DIR"
skiff store --data-dir "$DATA_DIR" status >/dev/null
cat <<MSG
skiff $(skiff --version | cut -d' ' -f2) is installed at /usr/local/bin/skiff; its store is in $DATA_DIR/db.

Try it:
  skiff store --data-dir $DATA_DIR put /registry/hello world
  skiff store --data-dir $DATA_DIR list /registry/
  skiff store --data-dir $DATA_DIR watch /registry/        # in a second terminal
  skiff store --data-dir $DATA_DIR snapshot save /tmp/skiff.snap
  skiff bench store

There is no API server yet, so there is nothing for kubectl to talk to: that is the next issue.
MSG
