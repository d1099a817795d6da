#!/usr/bin/env bash
# The project's one test command (see README.md): unit, integration and end-to-end tests of
# the native crates on the cpu and wgpu backends, the CUDA type-check, and the web app built
# for wasm32 and tested in headless Chromium on WebGPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-assets.sh > /dev/null        # Keras teachers (import tests), HED VGG16 (training tests)
# Debian chromium: WebGPU for the browser tests, and its SwiftShader Vulkan driver for the
# discriminator-on-vulkan test (lavapipe crashes there).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian chromium (needs root)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
cargo test --locked                        # default members: shared + train (and tests/)
# Type-check the CUDA build. burn's cuda backend downloads an LLVM bundle in a build script;
# DOCS_RS makes that script skip the download, which a type-check does not need.
DOCS_RS=1 cargo check --locked -p srkd --features cuda
# Builds shared + web for wasm32 (trunk) and runs the browser tests.
scripts/test-web.sh
