#!/usr/bin/env bash
# The suite built with AddressSanitizer and UndefinedBehaviorSanitizer (-Db_sanitize=address,
# undefined) in ${SANITIZE_BUILD_DIR:-build-sanitize}: any memory error, any undefined behaviour
# and any leak fails the test it happens in. Every suite runs but the soak (ASan keeps freed
# memory in quarantine, so RSS says nothing there; its figures come from the normal build) and,
# unless SANITIZE_DAVIS=1, the DAVIS quality test (98 s under ASan; it passes, see
# docs/reliability.md). Exit 77 (skipped) when the compiler cannot build with the sanitizers.
# Extra arguments go to both `meson test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SANITIZE_BUILD_DIR:-build-sanitize}

probe=$(mktemp -d) # the compiler probe, then the gst-launch-1.0 shims
trap 'rm -rf "$probe"' EXIT
echo 'int main() { return 0; }' >"$probe/probe.cpp"
if ! "${CXX:-c++}" -fsanitize=address,undefined "$probe/probe.cpp" -o "$probe/probe" 2>/dev/null; then
  echo "SKIP: ${CXX:-c++} cannot build with -fsanitize=address,undefined (libasan/libubsan missing)"
  exit 77
fi

if [[ ! -f $build/build.ninja ]]; then
  # -O1 -g1: a third of the build time of -O2 -g, stacks that still name every function, and
  # assertions on (the build type is no longer release).
  meson setup "$build" -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 \
    -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$build"

# UBSan stops at the first report. GStreamer scans plugins in-process, because the system's plugin
# scanner cannot load an instrumented plugin. The system's gst-launch-1.0 and gst-inspect-1.0, which
# the quality and tools suites run, can, with the ASan runtime preloaded: shims first in PATH do
# that (their own exit-time leaks are GStreamer's, not ours, so leak checking is off in them).
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0
export GST_REGISTRY_FORK=no
asan_runtime=$("${CXX:-c++}" -print-file-name=libasan.so)
for tool in gst-launch-1.0 gst-inspect-1.0; do
  real=$(command -v "$tool") || continue
  printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 exec %s "$@"\n' \
    "$asan_runtime" "$real" >"$probe/$tool"
  chmod +x "$probe/$tool"
done
export PATH=$probe:$PATH
asan=detect_leaks=1:strict_string_checks=1:check_initialization_order=1
run() { meson test -C "$build" --num-processes 2 --timeout-multiplier 3 --print-errorlogs "$@"; }

# The DAVIS test is the longest by far; CI leaves it out to stay within its time.
[[ ${SANITIZE_DAVIS:-0} == 1 ]] || export FLAGMASK_DAVIS=/nonexistent

status=0
ASAN_OPTIONS=$asan run --logbase sanitize --no-suite gst --no-suite tools --no-suite soak "$@" ||
  status=$?
# The element's and the tools' tests scan the system's plugins: the blocks their libraries'
# constructors keep are only recognised (tests/sanitizers/lsan.supp) with full allocation stacks,
# which GLib, built without frame pointers, gives only to the slow unwinder.
ASAN_OPTIONS=$asan:fast_unwind_on_malloc=0 run --logbase sanitize-gst --suite gst --suite tools \
  "$@" || status=$?
exit "$status"
