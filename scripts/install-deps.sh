#!/usr/bin/env bash
# Installs the system packages tug needs when they are missing (Debian, as root).
set -euo pipefail
need=()
for pair in "ip:iproute2" "nsenter:util-linux" "curl:curl" "git:git" \
	"containerd:containerd" "runc:runc" "busybox:busybox-static"; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
# CNI plugins for pod networking (bridge, host-local, portmap, loopback).
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
if ((${#need[@]})); then
	echo "installing: ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	echo "note: add /usr/local/go/bin to PATH" >&2
fi
command -v go >/dev/null 2>&1 || { echo "Go 1.26 or newer is required (https://go.dev/dl)" >&2; exit 1; }
