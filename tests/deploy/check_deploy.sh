#!/usr/bin/env bash
# Checks the shipped deploy/ files with the real tools. Every step runs; the script exits 1 if any
# failed, and also if a tool is missing (a missing tool is a failure, never a skip).
#
#   promtool check rules (lint fatal), promtool check config, promtool test rules,
#   rule conventions (severity, annotations, runbook section, test coverage),
#   alertmanager.e2e.yml up to date with alertmanager.yml, amtool check-config,
#   amtool config routes test (test-routes.sh), inhibit rules against a real Alertmanager.
#
# Needs (Debian bookworm): prometheus (promtool), prometheus-alertmanager (amtool and the
# server, started on 127.0.0.1 for a few seconds), python3 and python3-yaml.
# Usage: tests/deploy/check_deploy.sh        (from anywhere; ctest runs it as deploy_rules)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prom=$root/deploy/prometheus
am=$root/deploy/alertmanager
here=$root/tests/deploy

missing=0
need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "check_deploy: FAIL: '$1' not found — install $2" >&2
    missing=1
  fi
}
need promtool "the Debian package prometheus"
need amtool "the Debian package prometheus-alertmanager"
need prometheus-alertmanager "the Debian package prometheus-alertmanager"
need python3 "python3"
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import yaml' 2>/dev/null; then
  echo "check_deploy: FAIL: python3 cannot import yaml — install python3-yaml" >&2
  missing=1
fi
[ $missing = 0 ] || { echo "check_deploy: FAILED (missing tools)" >&2; exit 1; }

shopt -s nullglob
rules=("$prom"/rules/*.yml)
tests=("$prom"/tests/*.test.yml)
[ ${#rules[@]} -gt 0 ] || { echo "check_deploy: FAIL: no rule files in $prom/rules" >&2; exit 1; }
[ ${#tests[@]} -gt 0 ] || { echo "check_deploy: FAIL: no rule tests in $prom/tests" >&2; exit 1; }

failed=()
step() {
  local name=$1; shift
  echo
  echo "=== $name"
  if "$@"; then
    echo "--- ok: $name"
  else
    echo "--- FAILED: $name" >&2
    failed+=("$name")
  fi
}

step "promtool check rules --lint=all --lint-fatal" promtool check rules --lint=all --lint-fatal "${rules[@]}"
step "promtool check config prometheus.yml" promtool check config "$prom/prometheus.yml"
step "promtool test rules" promtool test rules "${tests[@]}"
step "rule conventions and test coverage" python3 "$here/check_rules_meta.py"
step "alertmanager.e2e.yml derived from alertmanager.yml" python3 "$am/make-e2e-config.py" --check
step "amtool check-config" amtool check-config "$am/alertmanager.yml" "$am/alertmanager.e2e.yml"
step "amtool config routes test" bash "$am/test-routes.sh" "$am/alertmanager.yml" "$am/alertmanager.e2e.yml"
step "inhibit rules on a real Alertmanager" python3 "$here/test_inhibitions.py" "$am/alertmanager.yml" "$am/alertmanager.e2e.yml"

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "check_deploy: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "check_deploy: all deploy checks pass"
