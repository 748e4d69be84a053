#!/usr/bin/env bash
# Routing cases of alertmanager.yml (and of the generated alertmanager.e2e.yml, which must route
# the same), checked with `amtool config routes test`. One line per case:
#   expected receiver | route that must be matched ("" = any) | labels of the alert
# Usage: test-routes.sh [CONFIG...]   (default: alertmanager.yml and alertmanager.e2e.yml here)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v amtool >/dev/null || { echo "test-routes: amtool not found (Debian: prometheus-alertmanager)" >&2; exit 2; }
[ $# -gt 0 ] || set -- "$here/alertmanager.yml" "$here/alertmanager.e2e.yml"

group_route='{alertname=~"LLMProbeFailoverGroup.*"}'
cases=(
  "pager  |               | severity=critical alertname=LLMProbeDown target=solo probe=chat"
  "ticket |               | severity=warning alertname=LLMProbeDown target=holysheep probe=chat"
  "null   |               | severity=info alertname=LLMProbeBudgetExhausted target=openai probe=chat"
  "pager  |               | severity=critical alertname=LLMProbeAuthFailure target=holysheep probe=chat status=AUTH_ERROR"
  "pager  |               | severity=critical alertname=LLMProbeQuotaExceeded target=deepseek probe=chat"
  "pager  |               | severity=critical alertname=LLMProbeErrorBudgetBurn target=holysheep probe=chat"
  "ticket |               | severity=warning alertname=LLMProbeErrorBudgetBurn target=holysheep probe=chat"
  "pager  |               | severity=critical alertname=LLMProbeExporterDown job=llm_probe_exporter instance=localhost:9835"
  "pager  |               | severity=critical alertname=LLMProbeExporterAbsent job=llm_probe_exporter"
  "ticket |               | severity=warning alertname=LLMProbeConfigReloadFailed"
  "pager  | $group_route | severity=critical alertname=LLMProbeFailoverGroupDown group=chat-primary target=holysheep"
  "ticket | $group_route | severity=warning alertname=LLMProbeFailoverGroupDegraded group=chat-primary"
  "watchdog |             | severity=info alertname=LLMProbeWatchdog"
  "pager  |               | severity=critical alertname=LLMProbeExporterRestarting job=llm_probe_exporter instance=localhost:9835"
  "ticket |               | severity=warning alertname=LLMProbeMisconfigured target=holysheep probe=chat"
  "null   |               | severity=info alertname=LLMProbeExporterVersionSkew job=llm_probe_exporter"
  "ticket |               | alertname=SomethingWithoutSeverity"
  "ticket |               | severity=page alertname=UnknownSeverity"
)

fail=0
for config in "$@"; do
  echo "== $config"
  for c in "${cases[@]}"; do
    IFS='|' read -r want route labels <<<"$c"
    want=$(echo $want); route=$(echo $route); labels=$(echo $labels)
    # shellcheck disable=SC2086  # labels are words on purpose
    got=$(amtool config routes test --config.file="$config" $labels 2>/dev/null) || true
    tree=$(amtool config routes test --config.file="$config" --tree $labels 2>/dev/null) || true
    if [ "$got" != "$want" ]; then
      echo "FAIL  {$labels} -> '$got', want '$want'"; fail=1
    elif [ -n "$route" ] && ! grep -qF -- "$route" <<<"$tree"; then
      echo "FAIL  {$labels} -> $got but not through route $route:"; echo "$tree"; fail=1
    else
      echo "ok    {$labels} -> $got${route:+ via $route}"
    fi
    # amtool's own verification, for its exit code
    # shellcheck disable=SC2086
    amtool config routes test --config.file="$config" --verify.receivers="$want" $labels >/dev/null 2>&1 \
      || { echo "FAIL  amtool --verify.receivers=$want {$labels}"; fail=1; }
  done
done
[ $fail = 0 ] && echo "test-routes: all routing cases pass" || echo "test-routes: FAILED" >&2
exit $fail
