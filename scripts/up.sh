#!/usr/bin/env bash
# Starts a single-node tug cluster in the background and prints how to use it.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=${DATA_DIR:-/var/lib/tug}
LOG=${DATA_DIR}/server.log
PIDFILE=${DATA_DIR}/server.pid
mkdir -p "$DATA_DIR"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
	echo "tug server already running (pid $(cat "$PIDFILE"))"
else
	nohup bin/tug server --data-dir "$DATA_DIR" >"$LOG" 2>&1 &
	echo $! >"$PIDFILE"
fi
for _ in $(seq 1 100); do
	if curl -ksf https://127.0.0.1:6443/readyz >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		echo "tug server exited; last log lines:" >&2
		tail -n 20 "$LOG" >&2
		exit 1
	fi
	sleep 0.2
done
curl -ksf https://127.0.0.1:6443/readyz >/dev/null || { echo "tug server did not become ready; see $LOG" >&2; exit 1; }
env=""
[ "$DATA_DIR" = /var/lib/tug ] || env="TUG_DATA_DIR=$DATA_DIR "
cat <<MSG
tug is running (pid $(cat "$PIDFILE"), log $LOG).

  ${env}bin/tug kubectl get namespaces
  ${env}bin/tug kubectl apply -f your-manifest.yaml

Admin kubeconfig for any kubectl: ${DATA_DIR}/admin.kubeconfig
Stop it with: make down
MSG
