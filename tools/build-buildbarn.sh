#!/usr/bin/env bash
# Builds a loopback Buildbarn cluster's binaries (bb_storage, bb_scheduler, bb_worker, bb_runner)
# from the Go module proxy into target/tools/buildbarn/, for gob's remote-execution e2e tests.
# Upstream builds with Bazel and patches two dependencies; this applies the same patches to
# writable copies and points the build at them with `go mod edit -replace`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/target/tools/buildbarn
RE=github.com/buildbarn/bb-remote-execution@v0.0.0-20250820081613-efef252cdf4f
STORAGE=github.com/buildbarn/bb-storage@v0.0.0-20250827121715-fbb7c11d3502
FUSE=github.com/hanwen/go-fuse/v2@v2.5.1
BYTESTREAM=google.golang.org/genproto/googleapis/bytestream@v0.0.0-20250811230008-5f3141c8851a
export GONOSUMDB=github.com/buildbarn,google.golang.org/genproto/googleapis/bytestream
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local

bins=(bb_storage bb_scheduler bb_worker bb_runner)
built() { for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done; }
if built; then echo "buildbarn: already built in $out"; exit 0; fi

dir_of() {  # the module cache dir of module@version, downloading it if needed
  go mod download -json "$1" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))'
}
work=$(mktemp -d "${TMPDIR:-/tmp}/gob-buildbarn.XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT

cp -r "$(dir_of "$RE")" "$work/re"
storage=$(dir_of "$STORAGE")
cp -r "$(dir_of "$FUSE")" "$work/fuse"
cp -r "$(dir_of "$BYTESTREAM")" "$work/bytestream"
chmod -R u+w "$work"
for p in "$work"/re/patches/com_github_hanwen_go_fuse_v2/*.diff; do
  (cd "$work/fuse" && patch -s -p0 <"$p")
done
for p in "$storage"/patches/org_golang_google_genproto_googleapis_bytestream/*.diff; do
  (cd "$work/bytestream" && patch -s -p0 <"$p")
done

cd "$work/re"
go mod edit -require="$STORAGE" \
  -replace="github.com/hanwen/go-fuse/v2=$work/fuse" \
  -replace="google.golang.org/genproto/googleapis/bytestream=$work/bytestream"
mkdir -p "$out"
go build -o "$out/" ./cmd/bb_scheduler ./cmd/bb_worker ./cmd/bb_runner \
  github.com/buildbarn/bb-storage/cmd/bb_storage
echo "buildbarn: built ${bins[*]} in $out"
