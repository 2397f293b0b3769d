#!/usr/bin/env bash
# Fuzzes the loaders of untrusted files with libFuzzer: the model file (fuzz-model) and the mask
# image (fuzz-mask), each for FUZZ_SECONDS (default 25: both together stay under a minute in CI),
# from a seed corpus the build writes (tests/fuzz/make_corpus.cpp) plus what earlier runs in the
# same build directory found. A crash, a sanitizer report, a leak, a timeout or an out-of-memory
# fails the run; the input that caused it is kept in ${FUZZ_BUILD_DIR:-build-fuzz}/findings.
# Exit 77 (skipped) without clang and libFuzzer (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-25}

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long) { return 0; }' \
  >"$probe/probe.cpp"
if ! command -v clang++ >/dev/null ||
  ! clang++ -fsanitize=fuzzer "$probe/probe.cpp" -o "$probe/probe" 2>/dev/null; then
  echo "SKIP: no clang++ that links libFuzzer (scripts/setup.sh installs clang, libclang-rt-14-dev)"
  exit 77
fi
if [[ ! -f $build/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup "$build" --buildtype=release -Dfuzz=enabled
fi
ninja -C "$build" tests/fuzz/fuzz-model tests/fuzz/fuzz-mask tests/fuzz/fuzz-corpus

seeds=$build/fuzz-seeds
rm -rf "$seeds"
"$build/tests/fuzz/fuzz-corpus" "$seeds"
mkdir -p "$build/findings"

# -malloc_limit_mb: the mask loader may allocate a decoded image of at most kMaxImagePixels (32 Mi
# pixels, at most 8 bytes each: 16-bit RGBA, 256 MB) plus OpenCV's working copies; anything beyond
# is the unbounded allocation the header checks exist to prevent.
status=0
for target in model mask; do
  result=clean
  corpus=$build/corpus-$target
  mkdir -p "$corpus"
  dict=()
  [[ -f tests/fuzz/$target.dict ]] && dict=(-dict="tests/fuzz/$target.dict")
  log=$build/fuzz-$target.log
  echo "fuzz-$target: $seconds s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz-$target" "$corpus" "$seeds/$target" \
    "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -malloc_limit_mb=1024 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$build/findings/$target-" \
    >"$log" 2>&1; then
    status=1
    result=FAILED
    grep -E "ERROR|SUMMARY|Test unit written" "$log" || tail -20 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz-$target: $runs executions, corpus $(ls "$corpus" | wc -l) inputs, $result"
done
exit "$status"
