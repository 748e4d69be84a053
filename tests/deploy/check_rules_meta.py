#!/usr/bin/env python3
"""Conventions of the shipped alert rules that promtool does not check.

For every alerting rule in deploy/prometheus/rules:
  - the name is CamelCase with the prefix LLMProbe;
  - labels.severity is critical, warning or info;
  - annotations summary, description and runbook_url are set, and runbook_url is
    RUNBOOK_BASE#<name lower-cased>, which must be the GitHub anchor of a heading of
    docs/runbook.md that reads exactly the alert name;
  - deploy/prometheus/tests has, for this alert and each of its severities, a case where it fires
    with exact labels and annotations; a case where it does not fire yet, before a firing case of
    the same test group (its `for`); and a case where it is gone again, after a firing case of the
    same test group (it resolves) — except an always-firing heartbeat (expr `vector(1)`).
Internal links of docs/runbook.md (](#anchor)) must point at a heading.
And every rule test file lists all rule groups in group_eval_order, the recording groups before
the alerting groups (deterministic timings).
Needs python3 with PyYAML (Debian: python3-yaml).
"""
import glob
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = sorted(glob.glob(os.path.join(ROOT, "deploy/prometheus/rules/*.yml")))
TESTS = sorted(glob.glob(os.path.join(ROOT, "deploy/prometheus/tests/*.test.yml")))
RUNBOOK = os.path.join(ROOT, "docs/runbook.md")
RUNBOOK_BASE = "https://github.com/llm-probe/llm_probe_exporter/blob/main/docs/runbook.md"
SEVERITIES = {"critical", "warning", "info"}

errors = []


def error(msg):
    errors.append(msg)


def duration(s):
    total = 0
    for n, unit in re.findall(r"(\d+)(ms|[smhdwy])", str(s)):
        total += int(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[unit]
    return total


def github_anchors(markdown):
    """Anchors GitHub gives to the headings (outside code fences), with -1, -2 for repeats."""
    anchors, seen, fenced = {}, {}, False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        text = m.group(2)
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors[slug if n == 0 else f"{slug}-{n}"] = text
    return anchors


def main():
    if not RULES or not TESTS:
        print("check_rules_meta: no rule files or no test files found", file=sys.stderr)
        return 1
    alerts = {}  # name -> set of severities
    always_firing = set()  # heartbeat alerts (expr vector(1)): no `for` to hold off, never resolve
    group_names, recording_groups = [], set()
    for path in RULES:
        with open(path) as f:
            doc = yaml.safe_load(f)
        for group in doc["groups"]:
            group_names.append(group["name"])
            for rule in group["rules"]:
                if "record" in rule:
                    recording_groups.add(group["name"])
                if "alert" not in rule:
                    continue
                name = rule["alert"]
                where = f"{os.path.relpath(path, ROOT)}: {name}"
                if not re.fullmatch(r"LLMProbe[A-Z][A-Za-z0-9]*", name):
                    error(f"{where}: name is not CamelCase with the prefix LLMProbe")
                sev = (rule.get("labels") or {}).get("severity")
                if sev not in SEVERITIES:
                    error(f"{where}: severity {sev!r} is not one of {sorted(SEVERITIES)}")
                ann = rule.get("annotations") or {}
                for key in ("summary", "description", "runbook_url"):
                    if not ann.get(key):
                        error(f"{where}: annotation {key} missing")
                if ann.get("runbook_url") != f"{RUNBOOK_BASE}#{name.lower()}":
                    error(f"{where}: runbook_url {ann.get('runbook_url')!r} is not {RUNBOOK_BASE}#{name.lower()}")
                alerts.setdefault(name, set()).add(sev)
                if str(rule.get("expr", "")).strip() == "vector(1)":
                    always_firing.add(name)

    try:
        with open(RUNBOOK) as f:
            anchors = github_anchors(f.read())
    except OSError as e:
        error(f"docs/runbook.md: {e}")
        anchors = {}
    with open(RUNBOOK) if os.path.exists(RUNBOOK) else open(os.devnull) as f:
        for link in sorted(set(re.findall(r"\]\(#([^)]+)\)", f.read()))):
            if link not in anchors:
                error(f"docs/runbook.md: link to #{link}, which no heading gives")
    for name in sorted(alerts):
        if anchors.get(name.lower()) != name:
            error(f"docs/runbook.md: no heading '{name}' giving the anchor #{name.lower()}")

    # name -> {"fires": set(severity), "before": bool, "after": bool}
    seen = {name: {"fires": set(), "before": False, "after": False} for name in alerts}
    for path in TESTS:
        rel = os.path.relpath(path, ROOT)
        with open(path) as f:
            doc = yaml.safe_load(f)
        order = doc.get("group_eval_order") or []
        recording_first = sorted(order, key=lambda g: g not in recording_groups) == order
        if sorted(order) != sorted(group_names) or not recording_first:
            error(f"{rel}: group_eval_order must list all rule groups {sorted(group_names)}, "
                  f"the recording groups {sorted(recording_groups)} first")
        for tg in doc.get("tests", []):
            by_alert = {}
            for case in tg.get("alert_rule_test", []) or []:
                name = case["alertname"]
                if name not in alerts:
                    error(f"{rel}: test of unknown alert {name}")
                    continue
                exp = case.get("exp_alerts") or []
                by_alert.setdefault(name, []).append((duration(case["eval_time"]), bool(exp)))
                for a in exp:
                    if "exp_annotations" not in a or not a.get("exp_labels"):
                        error(f"{rel}: {name} at {case['eval_time']}: give exp_labels and exp_annotations")
                    seen[name]["fires"].add((a.get("exp_labels") or {}).get("severity"))
            for name, cases in by_alert.items():
                firing = [t for t, fired in cases if fired]
                quiet = [t for t, fired in cases if not fired]
                if firing and any(q < min(firing) for q in quiet):
                    seen[name]["before"] = True
                if firing and any(q > min(firing) for q in quiet):
                    seen[name]["after"] = True
    for name, sevs in sorted(alerts.items()):
        s = seen[name]
        for sev in sorted(sevs - s["fires"]):
            error(f"tests: {name} is never seen firing with severity {sev}")
        if name in always_firing:
            continue
        if not s["before"]:
            error(f"tests: {name} has no case showing it does not fire before its `for`")
        if not s["after"]:
            error(f"tests: {name} has no case showing it resolves")

    for e in errors:
        print("check_rules_meta: " + e, file=sys.stderr)
    if errors:
        return 1
    print(f"check_rules_meta: {len(alerts)} alerts, each with severity, annotations, runbook section "
          f"and tests that fire, hold off before `for` and resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
