#!/usr/bin/env bash
# Regenerates internal/pb from proto/ with protoc (Debian's protobuf-compiler)
# and the protoc-gen-go / protoc-gen-go-grpc versions pinned in go.mod, and
# the Python SDK's messages in sdk/python/ebmflow_plugin/pb (protoc's own
# Python generator; the SDK serves its services with generic handlers).
# Usage: scripts/genproto.sh [-check]   (-check fails when the committed code is stale)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN="$bin" go install google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc
out=internal/pb
pyout=sdk/python/ebmflow_plugin/pb
if [ "${1:-}" = "-check" ]; then
  out="$bin/out/internal/pb"
  pyout="$bin/out/pypb"
fi
mkdir -p "$out" "$pyout"
protoc -I proto --python_out="$pyout" proto/ebmflow/v1/plugin.proto
protoc -I sdk/python/proto --python_out="$pyout" sdk/python/proto/goplugin.proto
mv "$pyout"/ebmflow/v1/plugin_pb2.py "$pyout"/ && rm -rf "$pyout/ebmflow"
PATH="$bin:$PATH" protoc -I proto \
  --go_out="$out" --go_opt=paths=source_relative \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
  proto/ebmflow/v1/plugin.proto
# Flatten: generated files live directly in internal/pb.
mv "$out"/ebmflow/v1/*.go "$out"/ && rm -rf "$out/ebmflow"
if [ "${1:-}" = "-check" ]; then
  if ! diff -r "$out" internal/pb >/dev/null; then
    echo "internal/pb is stale: run scripts/genproto.sh and commit the result" >&2
    diff -r "$out" internal/pb | head -20 >&2
    exit 1
  fi
  for f in plugin_pb2.py goplugin_pb2.py; do
    if ! cmp -s "$pyout/$f" "sdk/python/ebmflow_plugin/pb/$f"; then
      echo "sdk/python/ebmflow_plugin/pb/$f is stale: run scripts/genproto.sh and commit the result" >&2
      exit 1
    fi
  done
  echo "internal/pb and sdk/python/ebmflow_plugin/pb are current"
fi
