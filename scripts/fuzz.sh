#!/usr/bin/env bash
# Runs every Fuzz target of the repository for a short time each.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-15s}
grep -rl --include='*_test.go' '^func Fuzz' pkg internal 2>/dev/null | while read -r f; do
	pkg=./$(dirname "$f")
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r target; do
		echo "fuzz $pkg $target ($time)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" "$pkg"
	done
done
