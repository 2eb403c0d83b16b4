#!/usr/bin/env bash
# Stops the tug server started by `make up`.
set -euo pipefail
DATA_DIR=${DATA_DIR:-/var/lib/tug}
PIDFILE=${DATA_DIR}/server.pid
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
	pid=$(cat "$PIDFILE")
	kill -TERM "$pid"
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	echo "tug server stopped"
else
	echo "tug server is not running"
fi
rm -f "$PIDFILE"
