#!/usr/bin/env bash
# Configures and builds into build/ (override with BUILD_DIR). Extra arguments go to cmake.
# BUILD_TARGETS="a b" builds only those targets (scripts/demo.sh: no test binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DLLM_PROBE_WERROR=ON "$@" >/dev/null
targets=()
for target in ${BUILD_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
