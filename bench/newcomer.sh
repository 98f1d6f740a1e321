#!/usr/bin/env bash
# The newcomer path, timed (README and docs/src/getting-started.md quote it):
#   1. a fresh clone of this repository: the README's two commands;
#   2. a Go module without a manifest (a copy of examples/mesh): install.sh from a release
#      mirror on loopback serving dist/ (tools/dist.sh builds it), gob init, gob build,
#      gob test, with an empty GOCACHE as on a new machine.
# Each step's wall time is printed as a markdown table. Needs an otherwise idle machine.
#
#   bash bench/newcomer.sh [--skip-clone]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
export GOTOOLCHAIN=local GOPROXY=off

rows=()
timed() { # LABEL DIR CMD...
  local label=$1 dir=$2
  shift 2
  local start end
  start=$(date +%s.%N)
  (cd "$dir" && "$@") >"$work/step.log" 2>&1 || {
    echo "error: $label failed:" >&2
    tail -30 "$work/step.log" >&2
    exit 1
  }
  end=$(date +%s.%N)
  rows+=("| $label | $(python3 -c "print(f'{$end - $start:.1f} s')") |")
  echo "$label: done" >&2
}

if [ "${1:-}" != --skip-clone ]; then
  git clone -q "$repo" "$work/gob"
  (cd "$work/gob" && git checkout -q "$(git -C "$repo" rev-parse HEAD)")
  # As a newcomer has it: no servers built (the tests that need them say skipped).
  timed "fresh clone: cargo run --release -- build" "$work/gob" cargo run --release -- build
  timed "fresh clone: cargo test" "$work/gob" cargo test
fi

tarball=$(ls "$repo"/dist/gob-*-x86_64-unknown-linux-gnu.tar.gz 2>/dev/null | sed -n 1p)
[ -n "$tarball" ] || { echo "error: no tarball in dist/ (run tools/dist.sh)" >&2; exit 1; }
mkdir -p "$work/www/latest/download"
cp "$tarball" "$repo/dist/SHA256SUMS" "$work/www/latest/download/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
server_pid=$!
sleep 0.5

mkdir -p "$work/home" "$work/module"
cp -r "$repo/examples/mesh/." "$work/module/"
rm -rf "$work/module/.gob" "$work/module/bin" "$work/module/gobuild.toml"
export HOME=$work/home GOCACHE=$work/gocache GOB_DOWNLOAD_URL=http://127.0.0.1:$port
timed "install.sh (from a mirror on loopback)" "$work" sh "$repo/install.sh"
gob=$HOME/.local/bin/gob
timed "gob init" "$work/module" "$gob" init
timed "gob build (empty GOCACHE)" "$work/module" "$gob" build
timed "gob test" "$work/module" "$gob" test
timed "gob test --integ" "$work/module" "$gob" test --integ

echo "| step | wall time |"
echo "| --- | --- |"
printf '%s\n' "${rows[@]}"
