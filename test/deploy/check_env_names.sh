#!/usr/bin/env bash
# Usage: test/deploy/check_env_names.sh BINARY
#
# Checks that every PHOTOFINISH_* setting the Terraform stack can give
# photofinishd is a name the daemon knows: each must appear in `BINARY --help`,
# which lists every environment variable the daemon reads. The names are taken
# from the blocks of deploy/terraform/*.tf between "photofinishd-env:begin" and
# "photofinishd-env:end" comments (the task definition's environment and
# secrets, and the names allowed in daemon_settings).
# Exits 0 when all are known, 1 listing the unknown ones, 2 on usage errors.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 BINARY" >&2
	exit 2
fi
bin=$1
tfdir=$(cd "$(dirname "$0")/../../deploy/terraform" && pwd)

shopt -s nullglob
tf_files=("$tfdir"/*.tf)
if [ ${#tf_files[@]} -eq 0 ]; then
	echo "check_env_names: no .tf files in $tfdir" >&2
	exit 2
fi

# Unbalanced markers would silently drop names: refuse them.
begins=$(grep -c 'photofinishd-env:begin' "${tf_files[@]}" | awk -F: '{s += $NF} END {print s + 0}')
ends=$(grep -c 'photofinishd-env:end' "${tf_files[@]}" | awk -F: '{s += $NF} END {print s + 0}')
if [ "$begins" -eq 0 ] || [ "$begins" -ne "$ends" ]; then
	echo "check_env_names: expected matching photofinishd-env:begin/end markers in $tfdir (found $begins/$ends)" >&2
	exit 2
fi

wanted=$(awk '/photofinishd-env:begin/ {on = 1; next} /photofinishd-env:end/ {on = 0} on' "${tf_files[@]}" |
	grep -oE 'PHOTOFINISH_[A-Z0-9_]+' | sort -u || true)
if [ -z "$wanted" ]; then
	echo "check_env_names: no PHOTOFINISH_* names between the markers" >&2
	exit 2
fi

if ! help=$("$bin" --help 2>&1); then
	echo "check_env_names: '$bin --help' failed:" >&2
	printf '%s\n' "$help" | head -5 >&2
	exit 1
fi
known=$(printf '%s\n' "$help" | grep -oE 'PHOTOFINISH_[A-Z0-9_]+' | sort -u || true)

unknown=$(comm -23 <(printf '%s\n' "$wanted") <(printf '%s\n' "$known"))
count=$(printf '%s\n' "$wanted" | wc -l)
if [ -n "$unknown" ]; then
	echo "check_env_names: names set by deploy/terraform that '$bin --help' does not list:"
	printf '%s\n' "$unknown" | sed 's/^/  /'
	exit 1
fi
echo "check_env_names: all $count PHOTOFINISH_* names set by deploy/terraform are known to $bin"
