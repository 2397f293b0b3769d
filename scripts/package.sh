#!/usr/bin/env bash
# Builds the Debian package from this tree and tests it as a user gets it: installs the .deb,
# checks that GStreamer finds the element with nothing set, runs a pipeline with the installed
# element and tools, checks the manual pages, docs and network are in place, then removes the
# package and checks the plugin is gone. Exits non-zero, saying what failed, on any failure.
#
#   scripts/package.sh [--keep DIR]
#
# The tree is copied to a scratch folder and built there (dpkg-buildpackage -us -uc -b), so the
# checkout is not touched; --keep DIR keeps the built .deb in DIR. Installs the build tools it
# needs (dpkg-dev, debhelper) from Debian's archive. Needs root (apt-get install of the .deb):
# without it, says so and exits 77 (skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
keep=''
while [[ $# -gt 0 ]]; do
  case $1 in
  --keep) keep=$2; shift 2 ;;
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "package: unknown argument $1" >&2; exit 2 ;;
  esac
done
PACKAGE=gstreamer1.0-flagmask
fail() { echo "package: FAIL: $*" >&2; exit 1; }
if [[ $(id -u) -ne 0 ]]; then # skipped, as .ci/run counts exit 77
  echo "package: SKIP: run as root (the package is installed and removed)"
  exit 77
fi
dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q 'install ok installed' &&
  fail "$PACKAGE is installed already: remove it first (apt-get remove $PACKAGE)"

export DEBIAN_FRONTEND=noninteractive
need=()
for p in dpkg-dev debhelper fakeroot; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [[ ${#need[@]} -gt 0 ]]; then
  echo "package: installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
installed=false
cleanup() {
  if $installed; then apt-get remove -y -qq "$PACKAGE" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The tree as git has it (tracked files, and new ones git does not ignore), without builds.
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
  xargs -0 cp --parents -t "$work/src"
start=$SECONDS
echo "package: dpkg-buildpackage -us -uc -b"
(cd "$work/src" && dpkg-checkbuilddeps && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log" >&2; fail "dpkg-buildpackage failed (log above)"; }
deb=$(ls "$work"/${PACKAGE}_*.deb 2>/dev/null | head -n 1)
[[ -n $deb ]] || fail "no .deb built"
echo "package: built $(basename "$deb") in $((SECONDS - start)) s, $(du -h "$deb" | cut -f1)"
[[ -z $keep ]] || { mkdir -p "$keep" && cp "$deb" "$keep/"; }

echo "package: apt-get install $deb"
installed=true
apt-get install -y -qq "$deb" >/dev/null || fail "the .deb does not install"

# GStreamer as a user has it: no GST_PLUGIN_PATH, a registry of its own.
export GST_REGISTRY=$work/registry.bin
unset GST_PLUGIN_PATH GST_PLUGIN_PATH_1_0 FLAGMASK_NETWORK
inspect=$(gst-inspect-1.0 flagmask) || fail "gst-inspect-1.0 flagmask does not find the element"
plugin=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/gstreamer-1.0/libgstflagmask.so
# Debian's /lib is /usr/lib: the registry may name either.
found=$(sed -n 's/^ *Filename *//p' <<<"$inspect")
[[ $(realpath "$found") == $(realpath "$plugin") ]] ||
  fail "the element comes from $found, not from the package's $plugin"
[[ $inspect == *"flagmask Debian package"* ]] || fail "gst-inspect-1.0 does not show the package name"
echo "package: gst-inspect-1.0 finds flagmask in $plugin"

for f in /usr/bin/flagmask-train /usr/bin/flagmask-seed /usr/bin/flagmask-synth \
  /usr/share/flagmask/flagmask-refine.onnx /usr/share/man/man1/flagmask-train.1.gz \
  /usr/share/man/man1/flagmask-seed.1.gz /usr/share/man/man1/flagmask-synth.1.gz \
  /usr/share/doc/$PACKAGE/README.md /usr/share/doc/$PACKAGE/docs/element.md \
  /usr/share/doc/$PACKAGE/docs/images/modes.png /usr/share/doc/$PACKAGE/copyright; do
  [[ -e $f ]] || fail "$f is not installed"
done
[[ ! -e /usr/libexec/flagmask ]] || fail "the developers' programs are in the package"
# The installed docs link to each other and to their pictures (as tests/tools/check_install.sh
# checks a meson install).
docs=/usr/share/doc/$PACKAGE
[[ -f $docs/LICENSE ]] || fail "no LICENSE in $docs (README links to it)"
for page in "$docs"/README.md "$docs"/docs/*.md; do
  while read -r target; do
    target=${target%%#*}
    [[ -z $target || -e $(dirname "$page")/$target ]] ||
      fail "$page links to $target, which is not installed"
  done < <(grep -oE '\]\([^):]+\.(md|png|jpg)(#[^)]*)?\)' "$page" | sed -E 's/^\]\(//; s/\)$//')
done
echo "package: tools, manual pages, network and docs in place"

# A pipeline with the installed element: the synthetic flag, its first mask as the seed, masks
# out; the element loads the installed network (no FLAGMASK_NETWORK).
flagmask-synth -o "$work/flag" --frames 12 --width 320 --height 180 >/dev/null
frames=$work/flag/JPEGImages/480p/flag truth=$work/flag/Annotations/480p/flag
mkdir "$work/masks"
gst-launch-1.0 -q multifilesrc location="$frames/%05d.jpg" index=0 stop-index=11 \
  caps=image/jpeg,framerate=24/1 ! jpegdec ! videoconvert \
  ! flagmask seed-mask="$truth/00000.png" mode=mask ! videoconvert ! video/x-raw,format=GRAY8 \
  ! pngenc ! multifilesink location="$work/masks/%05d.png" || fail "the pipeline failed"
made=$(ls "$work/masks" | wc -l)
[[ $made -eq 12 ]] || fail "the pipeline wrote $made masks for 12 frames"
gst-launch-1.0 -q multifilesrc location="$frames/%05d.jpg" index=0 stop-index=11 \
  caps=image/jpeg,framerate=24/1 ! jpegdec ! videoconvert \
  ! flagmask seed-mask="$truth/00000.png" network=/usr/share/flagmask/flagmask-refine.onnx \
    background-color=0xff00ff00 ! fakesink || fail "the pipeline naming the installed network failed"
echo "package: a pipeline with the installed element wrote $made masks"

apt-get remove -y -qq "$PACKAGE" >/dev/null || fail "apt-get remove failed"
installed=false
[[ ! -e $plugin ]] || fail "$plugin is left after removal"
[[ ! -e /usr/bin/flagmask-train ]] || fail "flagmask-train is left after removal"
rm -f "$GST_REGISTRY"
! gst-inspect-1.0 flagmask >/dev/null 2>&1 || fail "gst-inspect-1.0 still finds flagmask"
echo "package: removed; nothing of it is left; passed in $((SECONDS - start)) s"
