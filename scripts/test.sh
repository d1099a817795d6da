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
cargo fmt --all --check                    # rustfmt.toml; `cargo fmt --all` fixes it
cargo clippy --locked --all-targets -- -D warnings
# srkd-core alone, as the page builds it: without the `training` kernels.
cargo clippy --locked -p srkd-core --all-targets -- -D warnings
# Default members: shared + train, and the integration tests (tests/tests.rs). The cases that
# need a Vulkan driver or PostgreSQL are #[ignore]d for a plain `cargo test`; here they run (SwiftShader and
# lavapipe are installed above and by .ci/run).
# The server tests also run against PostgreSQL (`srkd serve --db postgres://…`).
SRKD_TEST_POSTGRES=$(scripts/postgres-for-tests.sh)
case "$SRKD_TEST_POSTGRES" in
  postgres://*) echo "server tests on PostgreSQL: $SRKD_TEST_POSTGRES" >&2 ;;
  *) echo "scripts/postgres-for-tests.sh printed no URL: '$SRKD_TEST_POSTGRES'" >&2; exit 1 ;;
esac
export SRKD_TEST_POSTGRES
cargo test --locked -- --include-ignored
# The prepared GPU run (P4), end to end on SwiftShader's CPU-emulated Vulkan (≈ 1.5 min).
gpu_check=$(mktemp -d)
scripts/gpu-check.sh --dry-run --srkd "${CARGO_TARGET_DIR:-target}/debug/srkd" --out "$gpu_check" > /dev/null
grep -q '"dry_run": true' "$gpu_check/gpu-check.json"
# Type-check (and lint) the CUDA build. burn's cuda backend downloads an LLVM bundle in a build
# script; DOCS_RS makes that script skip the download, which a check does not need.
DOCS_RS=1 cargo clippy --locked -p srkd --features cuda -- -D warnings
# Builds shared + web for wasm32 (trunk) and runs the browser tests.
scripts/test-web.sh
