#!/usr/bin/env bash
# Configures and builds into build/ (override with BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DLLM_PROBE_WERROR=ON "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
