#!/usr/bin/env bash
# Installs what flagmask needs to build, test and run, from Debian 12's archive. Idempotent: does
# nothing when every package is already there. Runs apt-get through sudo when not root.
set -euo pipefail

PACKAGES=(
  meson ninja-build pkg-config g++ zlib1g-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libopencv-dev libopencv-contrib-dev libgtest-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  # x264enc, for the RTP H.264 pipeline of docs/examples.md (its test skips it without)
  gstreamer1.0-plugins-ugly
  # The Python example (examples/flagmask_messages.py): PyGObject and GStreamer's typelibs
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  # Reliability checks (.ci/run): memcheck, and clang with libFuzzer for scripts/fuzz.sh. The
  # sanitizer runtimes (libasan, libubsan) come with g++.
  valgrind clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  as_root=(sudo)
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
