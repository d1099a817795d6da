#!/usr/bin/env bash
# The project's one test command: unit, integration and end-to-end tests on the cpu and wgpu
# backends, plus the wasm32 build check of the shared crate. See README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-assets.sh > /dev/null        # Keras teacher weights for the import test
cargo test --workspace --locked
cargo check --locked -p srkd-core --target wasm32-unknown-unknown
# Type-check the CUDA build. burn's cuda backend downloads an LLVM bundle in a build script;
# DOCS_RS makes that script skip the download, which a type-check does not need.
DOCS_RS=1 cargo check --locked -p srkd --features cuda
