#!/bin/sh
# Regenerate src/shim/gen/ (TypeScript for the containerd shim's protobuf messages)
# from the .proto files under proto/, with buf and protoc-gen-es from node_modules.
set -eu
cd "$(dirname "$0")/.."
rm -rf src/shim/gen
npx buf generate proto --template proto/buf.gen.yaml
