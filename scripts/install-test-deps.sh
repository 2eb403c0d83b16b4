#!/usr/bin/env bash
# Installs what the tests need beyond tug's own dependencies (Debian, as root):
# the registry the end-to-end tests run inside their test hosts.
set -euo pipefail
"$(dirname "$0")/install-deps.sh"
if ! command -v docker-registry >/dev/null 2>&1; then
	echo "installing: docker-registry"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq docker-registry >/dev/null || { apt-get update -qq && apt-get install -y -qq docker-registry >/dev/null; }
	# The tests run their own registry; the packaged service is not needed.
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now docker-registry >/dev/null 2>&1 || true
	fi
fi
