#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs the exporter on the bundled demo
# config against the bundled mock upstream (no API key of yours needed: the Gemini and Bedrock
# targets use the mock's well-known demo credentials, deploy/demo/mock-credentials.env). Ctrl-C
# stops both.
#   metrics:     http://localhost:9835/metrics
#   status page: http://localhost:9835/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Only what runs here: the test binaries come with scripts/test.sh.
BUILD_TARGETS="llm_probe_exporter mock_upstream" scripts/build.sh
build/tools/mock_upstream/mock_upstream --listen 127.0.0.1:9836 \
  --scenarios tools/mock_upstream/demo_scenarios.json &
mock=$!
trap 'kill $mock 2>/dev/null; wait $mock 2>/dev/null' EXIT
set -a  # export every variable of the file
. deploy/demo/mock-credentials.env
set +a
exec_status=0
build/src/llm_probe_exporter --config.file deploy/demo/config.yaml "$@" || exec_status=$?
exit $exec_status
