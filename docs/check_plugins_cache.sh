#!/usr/bin/env bash
# The 'docs' suite: fails when docs/gst_plugins_cache.json is not what the built plugin gives,
# printing the difference and the command that rewrites the file.
#   check_plugins_cache.sh TOOL PLUGIN.so COMMITTED.json BUILD_DIR
set -euo pipefail

tool=$1 plugin=$2 committed=$3 build=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$tool" "$work/gst_plugins_cache.json" "$plugin" >/dev/null
if [[ ! -f $committed ]]; then
  echo "FAIL: $committed does not exist; make it with: ninja -C $build update-plugins-cache" >&2
  exit 1
fi
if ! diff -u --label "$committed (committed)" --label "from $plugin" \
  "$committed" "$work/gst_plugins_cache.json"; then
  echo "FAIL: $committed is out of date with the built plugin (diff above);" \
    "update it with: ninja -C $build update-plugins-cache" >&2
  exit 1
fi
echo "$committed matches the built plugin"
