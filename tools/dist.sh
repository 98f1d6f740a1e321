#!/usr/bin/env bash
# Builds the release: dist/gob-<version>-<target>.tar.gz holding one gob binary (static on
# Linux: a static PIE with glibc linked in, `ldd` says "statically linked"), its man pages, shell
# completions, README.md and the licenses, and dist/SHA256SUMS listing it. `gob --version`
# of the binary names the version and the commit it was built from.
#
#   tools/dist.sh [TARGET]     # default: the host's target (x86_64-unknown-linux-gnu here)
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
target=${1:-$host}
version=v$(sed -n 's/^version = "\(.*\)"/\1/p;T;q' Cargo.toml)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
name=gob-$version-$target

flags=${RUSTFLAGS:-}
case "$target" in
  *-linux-gnu) flags="$flags -C target-feature=+crt-static" ;;
esac

# --target keeps the flags off build scripts and proc macros (they stay dynamic); a target
# dir of its own keeps `cargo build --release` from rebuilding after it.
echo "==> building $name (commit $commit)"
GOB_BUILD_COMMIT=$commit RUSTFLAGS="$flags" CARGO_TARGET_DIR=target/dist \
  cargo build --release --locked --target "$target"
bin=target/dist/$target/release/gob

case "$target" in
  *-linux-gnu)
    # A static PIE (what crt-static gives): ldd says "statically linked"; a plain static
    # executable: "not a dynamic executable". Anything else names shared libraries.
    if ! ldd "$bin" 2>&1 | grep -Eq 'statically linked|not a dynamic executable'; then
      echo "error: $bin is dynamically linked:" >&2
      ldd "$bin" >&2
      exit 1
    fi
    ;;
esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir=$stage/$name
mkdir -p "$dir/man" "$dir/completions"
cp "$bin" "$dir/gob"
cp README.md LICENSE-MIT LICENSE-APACHE "$dir/"
# The host runs the binary to write its pages: only possible for the host's own target.
gen=$bin
[ "$target" = "$host" ] || gen=target/dist/release-host-gob
if [ "$target" != "$host" ]; then
  CARGO_TARGET_DIR=target/dist cargo build --release --locked
  cp target/dist/release/gob "$gen"
fi
"$gen" man --out-dir "$dir/man"
"$gen" completions bash >"$dir/completions/gob.bash"
"$gen" completions zsh >"$dir/completions/_gob"
"$gen" completions fish >"$dir/completions/gob.fish"

mkdir -p dist
if tar --version 2>/dev/null | grep GNU >/dev/null; then
  # Deterministic archive: sorted names, one owner, the commit's time.
  mtime=$(git log -1 --format=%ct 2>/dev/null || date +%s)
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
    -C "$stage" -czf "dist/$name.tar.gz.tmp" "$name"
else
  tar -C "$stage" -czf "dist/$name.tar.gz.tmp" "$name"
fi
mv "dist/$name.tar.gz.tmp" "dist/$name.tar.gz"
cp install.sh dist/install.sh
sum() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
# Every tarball in dist/ (a release job may gather several targets' here) and install.sh.
(cd dist && sum gob-*.tar.gz install.sh >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
echo "==> dist/$name.tar.gz"
cat dist/SHA256SUMS
