#!/bin/sh
# Installs gob from a release: downloads gob-<version>-<target>.tar.gz and SHA256SUMS, checks
# the tarball's checksum, and installs gob into ~/.local/bin, its man pages into
# ~/.local/share/man/man1 and its bash completions into ~/.local/share/bash-completion.
#
#   curl -fsSL https://github.com/gob-build/gob/releases/latest/download/install.sh | sh
#
# Settings (environment variables):
#   GOB_VERSION       a release tag such as v0.1.0 (default: the latest release)
#   GOB_INSTALL_DIR   where the binary goes (default: ~/.local/bin)
#   GOB_DOWNLOAD_URL  the releases URL (default: https://github.com/gob-build/gob/releases);
#                     a mirror serves latest/download/FILE and download/TAG/FILE the same way
set -eu

fail() {
  echo "install.sh: error: $*" >&2
  exit 1
}

base=${GOB_DOWNLOAD_URL:-https://github.com/gob-build/gob/releases}
base=${base%/}
version=${GOB_VERSION:-latest}
bin_dir=${GOB_INSTALL_DIR:-$HOME/.local/bin}
data_dir=${XDG_DATA_HOME:-$HOME/.local/share}

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-gnu ;;
  Darwin/arm64) target=aarch64-apple-darwin ;;
  Darwin/x86_64) target=x86_64-apple-darwin ;;
  *) fail "no release for $(uname -s) $(uname -m); build from source: cargo install --locked --path ." ;;
esac

if [ "$version" = latest ]; then
  url=$base/latest/download
else
  url=$base/download/$version
fi

fetch() { # URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    fail "neither curl nor wget is installed"
  fi || fail "cannot download $1"
}

sha256() { # FILE
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS"
name=$(awk -v t="$target" '$2 ~ "^gob-.*-" t "\\.tar\\.gz$" { print $2; exit }' "$tmp/SHA256SUMS")
[ -n "$name" ] || fail "the release at $url has no tarball for $target"
want=$(awk -v n="$name" '$2 == n { print $1; exit }' "$tmp/SHA256SUMS")
fetch "$url/$name" "$tmp/$name"
got=$(sha256 "$tmp/$name")
[ "$got" = "$want" ] || fail "checksum mismatch for $name: expected $want, got $got; nothing was installed"

mkdir -p "$tmp/x"
tar -xzf "$tmp/$name" -C "$tmp/x"
dir=$tmp/x/${name%.tar.gz}
[ -x "$dir/gob" ] || fail "$name has no gob binary"

mkdir -p "$bin_dir" "$data_dir/man/man1" "$data_dir/bash-completion/completions"
# Copy then rename, so a running gob is never overwritten in place.
cp "$dir/gob" "$bin_dir/.gob.new" && mv -f "$bin_dir/.gob.new" "$bin_dir/gob"
cp "$dir"/man/*.1 "$data_dir/man/man1/"
cp "$dir/completions/gob.bash" "$data_dir/bash-completion/completions/gob"

echo "installed $("$bin_dir/gob" --version) into $bin_dir"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "note: $bin_dir is not on PATH; add it: export PATH=\"$bin_dir:\$PATH\"" ;;
esac
