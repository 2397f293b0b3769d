#!/usr/bin/env bash
# What `meson install` puts where, run by `meson test --suite tools`: this build installed into a
# scratch folder (DESTDIR), then checked as a user finds it. The plugin lies in the folder the
# build summary names and loads from there (gst-inspect-1.0); the users' tools are in bin, each
# with a man page that names every option its --help gives; the developers' programs are in
# libexec/flagmask, not in bin; the refinement network is where the plugin looks; the README and docs keep their layout, so every link between
# them and to their pictures leads to an installed file. Exit 77 = skipped.
set -euo pipefail

: "${MESON:?}" "${BUILD_ROOT:?}" "${PLUGIN_DIR:?}" "${PREFIX:?}" "${BINDIR:?}" "${LIBEXECDIR:?}"
: "${MANDIR:?}" "${DOCDIR:?}" "${NETWORK_DIR:?}"
USER_TOOLS=(flagmask-train flagmask-seed flagmask-synth)
DEV_TOOLS=(flagmask-eval flagmask-fit-fusion flagmask-bench flagmask-bench-row
  flagmask-bench-core)

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
command -v gst-inspect-1.0 >/dev/null || skip "no gst-inspect-1.0"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/root
# Relative install folders are under the prefix; absolute ones (a plugindir in $HOME) as they are.
under() { if [[ $1 == /* ]]; then echo "$dest$1"; else echo "$dest$PREFIX/$1"; fi; }

"$MESON" install -C "$BUILD_ROOT" --no-rebuild --quiet --destdir "$dest" >"$work/install.log" \
  2>&1 || { cat "$work/install.log"; fail "meson install failed"; }

plugin_dir=$(under "$PLUGIN_DIR")
[[ -f $plugin_dir/libgstflagmask.so ]] || fail "no libgstflagmask.so in $plugin_dir"
GST_PLUGIN_SYSTEM_PATH_1_0='' GST_PLUGIN_PATH_1_0=$plugin_dir \
  GST_REGISTRY_1_0=$work/registry.bin gst-inspect-1.0 flagmask >"$work/inspect.txt" 2>&1 ||
  { cat "$work/inspect.txt"; fail "gst-inspect-1.0 does not load the installed plugin"; }
grep -q "$plugin_dir/libgstflagmask.so" "$work/inspect.txt" ||
  fail "gst-inspect-1.0 loaded another flagmask than the installed one"
echo "plugin: $plugin_dir/libgstflagmask.so loads"
# The refinement network the installed plugin loads by default.
[[ -f $(under "$NETWORK_DIR")/flagmask-refine.onnx ]] || fail "no network in $NETWORK_DIR"

bin=$(under "$BINDIR") libexec=$(under "$LIBEXECDIR")/flagmask man1=$(under "$MANDIR")/man1
for tool in "${USER_TOOLS[@]}"; do
  [[ -x $bin/$tool ]] || fail "$tool is not in $bin"
  page=$man1/$tool.1
  [[ -f $page || -f $page.gz ]] || fail "no man page $page"
  text=$( (zcat -f "$page"* 2>/dev/null) | sed 's/\\-/-/g')
  # Its options: those of the usage lines (up to the first blank line) and those that start a
  # line of the option list (not the other programs' options its text may quote).
  options=$("$bin/$tool" --help 2>&1 |
    awk '!body && /^$/ { body = 1 } !body || /^ *(-[a-z], )?--[a-z]/ { print }' |
    awk '/^usage:|^ +\[/ { print; next } { print $1, $2 }' |
    grep -oE -- '--[a-z][a-z-]*' | sort -u)
  for option in $options; do
    [[ $text == *"$option"* ]] || fail "the man page of $tool does not name $option"
  done
  echo "$tool: in bin, man page names its $(wc -w <<<"$options") options"
done
for tool in "${DEV_TOOLS[@]}"; do
  [[ ! -e $bin/$tool ]] || fail "the developers' $tool is installed in bin"
  [[ -x $libexec/$tool ]] || fail "$tool is not in $libexec"
done
echo "developers' programs: in $libexec"

doc=$(under "$DOCDIR")
[[ -f $doc/README.md && -f $doc/LICENSE ]] || fail "no README.md or LICENSE in $doc"
links=0
for page in "$doc"/README.md "$doc"/docs/*.md; do
  # Markdown links and pictures to files of the docs: [text](path) and ![alt](path), relative,
  # ending in .md or a picture (an anchor after # is dropped).
  while read -r target; do
    target=${target%%#*}
    [[ -n $target ]] || continue
    [[ -e $(dirname "$page")/$target ]] || fail "$page links to $target, which is not installed"
    links=$((links + 1))
  done < <(grep -oE '\]\([^):]+\.(md|png|jpg)(#[^)]*)?\)' "$page" | sed -E 's/^\]\(//; s/\)$//')
done
((links > 0)) || fail "no links between the installed docs were found"
echo "docs: $links links between the installed pages and pictures lead to installed files"
