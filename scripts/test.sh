#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root): installs what it needs,
# checks formatting and lints, builds, runs every test (unit, conformance against the memory,
# embedded and real-etcd backends, crash and CLI tests) and prints the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
skiff_install_deps

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo build --release"
cargo build --release --locked -p skiff-cli
echo "== cargo test"
log=$(mktemp)
set +e
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?/) p += $(i-1); if ($(i) ~ /^failed;?/) f += $(i-1); if ($(i) ~ /^ignored;?/) s += $(i-1) } }
     END { printf "skiff: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
