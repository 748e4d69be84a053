#!/usr/bin/env bash
# The monitoring mixin is the source of the shipped rules and dashboards: re-render it with the real jsonnet into a
# temporary directory and fail on any difference from deploy/prometheus/rules (someone edited the
# generated YAML/JSON, or changed the mixin without running deploy/mixin/generate). Then render it with
# overridden settings and check that every _config knob reaches the output (no literal left behind).
# Needs Debian's jsonnet and python3-yaml. Usage: tests/deploy/check_mixin.sh (ctest: deploy_mixin)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mixin=$root/deploy/mixin
command -v jsonnet >/dev/null || { echo "check_mixin: FAIL: jsonnet not found — install the Debian package jsonnet" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

"$mixin/generate" "$tmp/rules" || { echo "check_mixin: FAIL: deploy/mixin/generate failed" >&2; exit 1; }
# Every file of the checked-in folder ($1, relative to the root) and of the render ($2) must be
# the same, either way round.
same_as_render() {
  local checked_in=$1 rendered=$2 ext=$3 file name
  for file in "$root/$checked_in"/*."$ext" "$rendered"/*."$ext"; do
    name=$(basename "$file")
    if ! diff -u "$root/$checked_in/$name" "$rendered/$name" >"$tmp/diff" 2>&1; then
      echo "check_mixin: FAIL: $checked_in/$name differs from the mixin's output (run deploy/mixin/generate):" >&2
      head -40 "$tmp/diff" >&2
      failed=1
    fi
  done
}
same_as_render deploy/prometheus/rules "$tmp/rules" yml
same_as_render grafana/dashboards "$tmp/rules/dashboards" json

# Overridden settings must change the output where the defaults appeared.
mkdir -p "$tmp/custom"
jsonnet -J "$mixin" -S -m "$tmp/custom" -e "
  local mixin = (import 'mixin.libsonnet') + { _config+:: {
    exporterSelector: 'job=\"llm-probe-custom\"', clusterLabel: 'k8s_cluster', regionLabel: 'geo',
    sloObjective: 0.999, pageBurnRateFast: 20, pageBurnRateSlow: 8, runbookURLPattern: 'https://wiki.example/runbook#%s',
    grafanaURL: 'https://grafana.example', latencyP95Seconds: 7, sloMinFailures: 4 } };
  { 'alerts.yml': std.manifestYamlDoc(mixin.prometheusAlerts), 'recording.yml': std.manifestYamlDoc(mixin.prometheusRules),
    'dashboards.json': std.manifestJson(mixin.grafanaDashboards) }" >/dev/null \
  || { echo "check_mixin: FAIL: rendering with overridden _config failed" >&2; exit 1; }
python3 - "$tmp/custom" <<'PY' || failed=1
import json, re, sys, yaml
out = sys.argv[1]
alerts = yaml.safe_load(open(out + "/alerts.yml"))["groups"]
recording = yaml.safe_load(open(out + "/recording.yml"))["groups"]
rules = [r for g in alerts + recording for r in g["rules"]]
text = yaml.safe_dump(rules)
problems = []
for leftover in ['job="llm_probe_exporter"', "127.0.0.1:3000", "github.com/llm-probe", "$labels.region",
                 "$labels.cluster", "cluster, region", "vector(0.995)"]:
    if leftover in text:
        problems.append(f"default {leftover!r} still in the output")
for wanted in ['job="llm-probe-custom"', "https://grafana.example/d/", "$labels.geo", "$externalLabels.k8s_cluster",
               "on (job, instance, k8s_cluster, geo, target)", "vector(0.999)",
               "p95_rate5m > 7 ", "increase1h >= 4"]:
    if wanted not in text:
        problems.append(f"override {wanted!r} missing from the output")
for rule in rules:
    url = rule.get("annotations", {}).get("runbook_url")
    if "alert" in rule and url != "https://wiki.example/runbook#" + rule["alert"].lower():
        problems.append(f"{rule['alert']}: runbook_url {url!r}")
# Dashboards: the label names in queries, legends and table columns, the objective and burn rates
# in the threshold steps.
dashboards = json.load(open(out + "/dashboards.json"))
if sorted(dashboards) != ["llm-probe-detail.json", "llm-probe-overview.json"]:
    problems.append(f"dashboards rendered: {sorted(dashboards)}")
dash_text = json.dumps(dashboards)
for leftover in [', region=~', ', cluster=~', 'cluster, region', '{{region}}', '{{cluster}}', '}, region)', '}, cluster)']:
    if leftover in dash_text:
        problems.append(f"dashboards: default label {leftover!r} still in the output")
for wanted in [', geo=~\\"$region\\"', ', k8s_cluster=~\\"$cluster\\"', 'k8s_cluster, geo', '{{geo}}', '}, geo)']:
    if wanted not in dash_text:
        problems.append(f"dashboards: override {wanted!r} missing from the output")
steps = []
def walk(node, key=""):
    if isinstance(node, dict):
        if key == "renameByName" and ("region" in node or "cluster" in node):
            problems.append(f"dashboards: table column still renamed from region/cluster: {node}")
        for k, v in node.items(): walk(v, k)
    elif isinstance(node, list):
        if key == "steps": steps.extend(s.get("value") for s in node if isinstance(s, dict))
        for v in node: walk(v)
walk(dashboards)
for default in (0.995, 14.4, 6):
    if default in steps:
        problems.append(f"dashboards: default threshold {default} still in a threshold step")
for wanted in (0.999, 20, 8):
    if wanted not in steps:
        problems.append(f"dashboards: overridden threshold {wanted} missing from the threshold steps")
for p in problems:
    print("check_mixin: FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

[ $failed = 0 ] && echo "check_mixin: OK (rules and dashboards up to date with deploy/mixin, every _config knob reaches the output)"
exit $failed
