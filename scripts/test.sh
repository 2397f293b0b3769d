#!/usr/bin/env bash
# The test command: installs what is needed, builds, runs every suite (core, gst, quality) and
# closes with a line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build=${BUILD_DIR:-build}

status=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?

# meson's own summary is not a line every CI reader knows: restate it plainly.
log=$build/meson-logs/testlog.json
if [[ -f $log ]]; then
  passed=$(grep -c '"result": "OK"' "$log" || true)
  failed=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  skipped=$(grep -c '"result": "SKIP"' "$log" || true)
  echo "$passed passed, $failed failed, $skipped skipped"
fi
exit "$status"
