#!/usr/bin/env bash
# The element's gst-check tests (meson suite gst) under valgrind memcheck: any memory error or
# definite leak fails them. Suppressions: GLib's (shipped by libglib2.0-dev) and flagmask's own
# for one-time allocations of the libraries below us (tests/valgrind/flagmask.supp); Debian does
# not ship GStreamer's gst.supp. Exit 77 (skipped) without valgrind. Builds ${BUILD_DIR:-build}
# first; extra arguments go to `meson test` (e.g. a test name).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

if ! command -v valgrind >/dev/null; then
  echo "SKIP: valgrind is not installed (scripts/setup.sh installs it)"
  exit 77
fi
bash scripts/build.sh >/dev/null

suppressions=(--suppressions="$PWD/tests/valgrind/flagmask.supp")
glib_supp=$(pkg-config --variable=prefix glib-2.0 2>/dev/null || echo /usr)/share/glib-2.0/valgrind/glib.supp
[[ -f $glib_supp ]] && suppressions+=(--suppressions="$glib_supp")

wrapper=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
  --errors-for-leak-kinds=definite --error-exitcode=1 --num-callers=40 "${suppressions[@]}")

# One process per test (no fork per check, so valgrind sees everything); GLib's allocators made
# plain so that valgrind sees every block.
export CK_FORK=no G_SLICE=always-malloc G_DEBUG=gc-friendly
meson test -C "$build" --suite gst --wrapper "${wrapper[*]}" --timeout-multiplier 20 \
  --num-processes "${VALGRIND_JOBS:-2}" --print-errorlogs "$@"
