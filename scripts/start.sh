#!/usr/bin/env bash
# Builds skiff and starts a cluster on this machine, from a fresh Debian 12 machine (as root):
# installs what building needs, builds the binary, installs it as /usr/local/bin/skiff, starts
# `skiff server` in the background (embedded store in $SKIFF_DATA_DIR, default /var/lib/skiff;
# log in $SKIFF_DATA_DIR/server.log), waits until it is ready and prints how to use kubectl
# with it. The node agent (kubelet) is a later issue: today the server runs the control plane.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
skiff_install_deps

DATA_DIR=${SKIFF_DATA_DIR:-/var/lib/skiff}
PORT=${SKIFF_HTTPS_PORT:-6443}
cargo build --release --locked -p skiff-cli
install -m 0755 target/release/skiff /usr/local/bin/skiff
mkdir -p "$DATA_DIR"
if [ -f "$DATA_DIR/server.pid" ] && kill -0 "$(cat "$DATA_DIR/server.pid")" 2>/dev/null; then
  echo "skiff server already running (pid $(cat "$DATA_DIR/server.pid")); restarting it" >&2
  kill "$(cat "$DATA_DIR/server.pid")" && sleep 1
fi
nohup skiff server --data-dir "$DATA_DIR" --https-port "$PORT" >>"$DATA_DIR/server.log" 2>&1 &
echo $! >"$DATA_DIR/server.pid"
for _ in $(seq 1 600); do
  if [ "$(curl -sk "https://127.0.0.1:$PORT/readyz" 2>/dev/null)" = "ok" ] && [ -f "$DATA_DIR/kubeconfig.yaml" ]; then
    break
  fi
  if ! kill -0 "$(cat "$DATA_DIR/server.pid")" 2>/dev/null; then
    echo "skiff server failed to start; see $DATA_DIR/server.log:" >&2
    tail -20 "$DATA_DIR/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
KUBECTL=$(command -v kubectl || echo "$(pwd)/.venv/bin/kubectl")
cat <<MSG
skiff $(skiff --version | cut -d' ' -f2) is serving the Kubernetes API on https://127.0.0.1:$PORT
(pid $(cat "$DATA_DIR/server.pid"), data in $DATA_DIR, log in $DATA_DIR/server.log).

Use it with kubectl:
  export KUBECONFIG=$DATA_DIR/kubeconfig.yaml
  $KUBECTL get namespaces
  $KUBECTL create deployment web --image=nginx:1.25 --replicas=2
  $KUBECTL get deploy,svc -A

Nodes: none yet (the node agent comes with a later issue), so pods stay Pending.
Stop it with: kill \$(cat $DATA_DIR/server.pid)
MSG
