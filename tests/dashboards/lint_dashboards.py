#!/usr/bin/env python3
"""Lints the provisioned Grafana dashboards (grafana/dashboards/*.json) against the project's
conventions, in the spirit of grafana/dashboard-linter's rules. Standard library only.

Usage:
  lint_dashboards.py [DASHBOARD.json ...]   lint these (default: grafana/dashboards/*.json)
  lint_dashboards.py --self-test            break copies of the shipped dashboards one way at a
                                            time and check that each breakage is reported

Exit status: 0 clean, 1 violations (one line each: file, panel, [rule] message), 2 usage error.

Rules (ids in brackets):
  [provisioned]      raw JSON for provisioning: no __inputs/__requires, no ${DS_...}, id null
  [uid]              a stable uid: present, [A-Za-z0-9_-], at most 40 characters, unique
  [template-datasource]  a `datasource` variable of type datasource, query prometheus
  [template-vars]    job, region, cluster, instance, target, probe, model: query variables on ${datasource},
                     multi, include All, refreshed on time range change, label_values(...)
                     queries; model's allValue is ".*" (Grafana's default All lists the values
                     and so misses the empty model of models probes); others ".*" or unset
  [template-refs]    every $variable a query, title or link uses is defined (or built in)
  [panel-type]       only timeseries, stat, table, state-timeline, bargauge, heatmap (and row)
  [panel-ids]        unique integer panel ids
  [gridpos]          gridPos present, inside the 24 columns, no two panels overlapping
  [panel-datasource] every panel and every target uses the ${datasource} variable
  [panel-title] [panel-description]  non-empty
  [panel-units]      fieldConfig.defaults.unit set on every panel
  [panel-targets]    at least one target, each with an expr and a unique refId; table panels
                     ask for format "table"
  [promql-syntax]    balanced (), {}, [] and quotes
  [rate-interval]    rate()/irate() windows are $__rate_interval; every other range or subquery
                     window is a Grafana interval variable ($__rate_interval, $__range,
                     $__interval), never a fixed duration — except increase(...[30d]), the SLO
                     period of an error budget that must not follow the dashboard's range
  [target-job] [target-instance]  every selector of an exporter series filters job=~"$job" and
                     instance=~"$instance"
  [target-region]    ... and region=~"$region", cluster=~"$cluster" (global views: Thanos, Mimir,
                     federation; All is ".*", which also matches series without the label)
  [target-probe-labels]  every selector of a per-probe series (llm_probe_* except the exporter_
                     and group_ families, and the llm_probe:* recording rules) also filters
                     target=~"$target", probe=~"$probe", model=~"$model"
  [link-target]      links to /d/<uid> point at one of the linted dashboards
  [repeat]           a repeated panel or row repeats over a defined variable
  [link-fields]      a data link's ${__data.fields.X} is not a field the panel's organize
                     transformation removes (the link would lose it)
  [questions]        the overview and detail dashboards answer the 3 am questions: firing alerts
                     (table and annotation), since when, failover order, exporter health;
                     latency heatmap, certificate expiry, 30-day error budget (QUESTIONS)
  [provisioning]     (shipped tree only) grafana/provisioning/ has a Prometheus data source with
                     a stable uid and a file provider reading /var/lib/grafana/dashboards
"""
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ALLOWED_TYPES = {"timeseries", "stat", "table", "state-timeline", "bargauge", "heatmap", "row"}
REQUIRED_VARS = ("job", "region", "cluster", "instance", "target", "probe", "model")
# The SLO period: an error budget panel reads it whatever the dashboard's range.
SLO_PERIOD_WINDOW = "30d"
BUILTIN_VARS = {"__rate_interval", "__range", "__range_s", "__range_ms", "__interval",
                "__interval_ms", "__all", "__url_time_range", "__data", "__dashboard", "__from",
                "__to", "__org", "__user", "__timeFilter", "__value", "__field", "__series",
                "timeFilter"}
RANGE_VARS = ("$__rate_interval", "$__range", "$__interval")
# Series without labels (recording rules over vector()), exempt from the job/instance rule.
UNLABELLED = {"llm_probe:slo_objective:ratio"}
KEYWORDS_WITH_LABEL_LIST = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                "bottomk", "topk", "quantile"}
KEYWORDS = KEYWORDS_WITH_LABEL_LIST | AGGREGATIONS | {"and", "or", "unless", "bool", "offset", "inf", "nan"}
DS_VALUES = {"${datasource}", "$datasource"}


class Report:
    def __init__(self):
        self.problems = []

    def add(self, where, rule, message):
        self.problems.append(f"{where}: [{rule}] {message}")


# ---------------------------------------------------------------------------------------------
# A small PromQL scanner: enough to find vector selectors, their matchers and range windows.
def _skip_string(expr, i):
    quote = expr[i]
    i += 1
    while i < len(expr):
        if expr[i] == "\\" and quote != "`":
            i += 2
            continue
        if expr[i] == quote:
            return i + 1
        i += 1
    raise ValueError(f"unterminated string starting at offset {i}")


def _matching(expr, i, open_c, close_c):
    depth = 0
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            i = _skip_string(expr, i)
            continue
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced {open_c}{close_c}")


def check_balanced(expr):
    stack = []
    pairs = {")": "(", "]": "[", "}": "{"}
    i = 0
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            i = _skip_string(expr, i)
            continue
        if c in "([{":
            stack.append(c)
        elif c in ")]}":
            if not stack or stack.pop() != pairs[c]:
                raise ValueError(f"unexpected '{c}' at offset {i}")
        i += 1
    if stack:
        raise ValueError(f"unclosed '{stack[-1]}'")


IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def scan(expr):
    """Returns (selectors, ranges): selectors as (metric, {label: (op, value)}), ranges as
    (window text, enclosing function name or '')."""
    selectors, ranges = [], []
    calls = []  # stack of (function name, index of its closing paren)
    i = 0
    while i < len(expr):
        while calls and i > calls[-1][1]:
            calls.pop()
        c = expr[i]
        if c in "\"'`":
            i = _skip_string(expr, i)
            continue
        if c == "[":
            end = _matching(expr, i, "[", "]")
            ranges.append((expr[i + 1:end].strip(), calls[-1][0] if calls else ""))
            i = end + 1
            continue
        if c == "{":  # a selector without a metric name, e.g. {__name__=~"..."}
            end = _matching(expr, i, "{", "}")
            selectors.append(("", dict((m[0], (m[1], m[2])) for m in MATCHER.findall(expr[i + 1:end]))))
            i = end + 1
            continue
        if c == "$":  # a Grafana variable outside a range: skip its name
            m = re.compile(r"\$\{?[A-Za-z0-9_.:]*\}?").match(expr, i)
            i = m.end()
            continue
        if c.isdigit() or (c == "." and i + 1 < len(expr) and expr[i + 1].isdigit()):
            m = re.compile(r"[0-9.eE+-]*[0-9A-Za-z]*").match(expr, i)
            i = max(m.end(), i + 1)
            continue
        m = IDENT.match(expr, i)
        if not m or (i > 0 and (expr[i - 1].isalnum() or expr[i - 1] == "_")):
            i += 1
            continue
        name = m.group(0)
        j = m.end()
        while j < len(expr) and expr[j].isspace():
            j += 1
        if name.lower() in KEYWORDS_WITH_LABEL_LIST:
            i = _matching(expr, j, "(", ")") + 1 if j < len(expr) and expr[j] == "(" else j
            continue
        if name.lower() in KEYWORDS:
            i = j
            continue
        if j < len(expr) and expr[j] == "(":  # function or aggregation
            calls.append((name, _matching(expr, j, "(", ")")))
            i = j + 1
            continue
        matchers = {}
        if j < len(expr) and expr[j] == "{":
            end = _matching(expr, j, "{", "}")
            matchers = dict((mm[0], (mm[1], mm[2])) for mm in MATCHER.findall(expr[j + 1:end]))
            j = end + 1
        selectors.append((name, matchers))
        i = j
    return selectors, ranges


def exporter_series(name):
    return name == "up" or name.startswith("llm_probe_") or name.startswith("llm_probe:")


def per_probe_series(name):
    if name.startswith("llm_probe:"):
        return name not in UNLABELLED
    return (name.startswith("llm_probe_") and not name.startswith("llm_probe_exporter_")
            and not name.startswith("llm_probe_group_"))


def lint_expr(expr, where, report):
    try:
        check_balanced(expr)
        selectors, ranges = scan(expr)
    except ValueError as e:
        report.add(where, "promql-syntax", f"{e} in: {expr}")
        return
    for window, func in ranges:
        if func in ("rate", "irate"):
            if window != "$__rate_interval":
                report.add(where, "rate-interval", f"{func}() over [{window}]; use [$__rate_interval]")
            continue
        parts = window.split(":")
        for k, part in enumerate(parts):
            if part == "" and k == 1:
                continue  # [range:] subquery with the default step
            if part not in RANGE_VARS and not (func == "increase" and window == SLO_PERIOD_WINDOW):
                report.add(where, "rate-interval",
                           f"fixed window [{window}] in {func or 'a selector'}(); use $__rate_interval, $__range or $__interval")
                break
    for name, matchers in selectors:
        if not name or not exporter_series(name) or name in UNLABELLED:
            continue
        for label, rule in (("job", "target-job"), ("instance", "target-instance"),
                            ("region", "target-region"), ("cluster", "target-region")):
            if matchers.get(label) != ("=~", f"${label}"):
                report.add(where, rule, f'selector {name} lacks {label}=~"${label}"')
        if per_probe_series(name):
            missing = [l for l in ("target", "probe", "model") if matchers.get(l) != ("=~", f"${l}")]
            if missing:
                report.add(where, "target-probe-labels",
                           f"selector {name} lacks " + ", ".join(f'{l}=~"${l}"' for l in missing))


VAR_REF = re.compile(r"\$\{([A-Za-z0-9_.]+)(?::[A-Za-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\]")


def var_refs(text):
    for m in VAR_REF.finditer(text):
        name = m.group(1) or m.group(2) or m.group(3)
        yield name.split(".")[0]


def walk_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from walk_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_strings(v)


# ---------------------------------------------------------------------------------------------
def lint_templating(dash, where, report):
    variables = (dash.get("templating") or {}).get("list") or []
    by_name = {v.get("name"): v for v in variables}
    ds = by_name.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        report.add(where, "template-datasource",
                   "needs a variable named 'datasource' of type datasource with query 'prometheus'")
    for name in REQUIRED_VARS:
        if name not in by_name:
            report.add(where, "template-vars", f"variable '{name}' is missing")
    for v in variables:
        if v.get("type") != "query":
            continue
        name = v.get("name")
        vw = f"{where}: variable {name}"
        if (v.get("datasource") or {}).get("uid") not in DS_VALUES:
            report.add(vw, "template-vars", "must query the ${datasource} variable")
        if v.get("refresh") != 2:
            report.add(vw, "template-vars", "refresh must be 2 (on time range change)")
        if not v.get("multi") or not v.get("includeAll"):
            report.add(vw, "template-vars", "must be multi-value with 'Include All'")
        if name == "model" and v.get("allValue") != ".*":
            report.add(vw, "template-vars",
                       "allValue must be \".*\": Grafana's default All lists the values and so misses the empty model of models probes")
        elif v.get("allValue") not in (None, "", ".*"):
            report.add(vw, "template-vars", f"allValue must be \".*\" or unset (Grafana's list of values), is {v.get('allValue')!r}")
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", q, re.S)
        if not m:
            report.add(vw, "template-vars", f"query must be label_values(<selector>, <label>), got: {q!r}")
        else:
            if m.group(2) != name and name in REQUIRED_VARS:
                report.add(vw, "template-vars", f"label_values(...) should read label '{name}', reads '{m.group(2)}'")
            lint_expr(m.group(1), vw, Report())  # syntax only matters here
            try:
                check_balanced(m.group(1))
            except ValueError as e:
                report.add(vw, "promql-syntax", str(e))
    return set(by_name)


def iter_panels(panels):
    for p in panels or []:
        yield p
        yield from iter_panels(p.get("panels"))


def check_gridpos(panels, where, report):
    boxes = []
    for p in panels:
        g = p.get("gridPos")
        pw = f"{where}: panel {p.get('title')!r} (id {p.get('id')})"
        if not isinstance(g, dict) or not all(isinstance(g.get(k), int) for k in "xywh"):
            report.add(pw, "gridpos", "gridPos needs integer x, y, w, h")
            continue
        if g["x"] < 0 or g["y"] < 0 or g["w"] <= 0 or g["h"] <= 0 or g["x"] + g["w"] > 24:
            report.add(pw, "gridpos", f"gridPos {g} is outside the 24-column grid")
        for other, og, ow in boxes:
            if (g["x"] < og["x"] + og["w"] and og["x"] < g["x"] + g["w"]
                    and g["y"] < og["y"] + og["h"] and og["y"] < g["y"] + g["h"]):
                report.add(pw, "gridpos", f"overlaps panel {ow!r} (id {other})")
        boxes.append((p.get("id"), g, p.get("title")))
    for p in panels:
        if p.get("type") == "row" and p.get("collapsed") and p.get("panels"):
            check_gridpos(p["panels"], f"{where}: row {p.get('title')!r}", report)


def lint_panel(p, where, report, defined_vars):
    ptype = p.get("type")
    pw = f"{where}: panel {p.get('title')!r} (id {p.get('id')})"
    if ptype not in ALLOWED_TYPES:
        report.add(pw, "panel-type", f"type {ptype!r} is not one of {sorted(ALLOWED_TYPES - {'row'})}")
    if p.get("repeat") and p["repeat"] not in defined_vars:
        report.add(pw, "repeat", f"repeats over undefined variable {p['repeat']!r}")
    if ptype == "row":
        return
    if not (p.get("title") or "").strip():
        report.add(pw, "panel-title", "has no title")
    if not (p.get("description") or "").strip():
        report.add(pw, "panel-description", "has no description (what question does it answer?)")
    if (p.get("datasource") or {}).get("uid") not in DS_VALUES:
        report.add(pw, "panel-datasource", f"datasource must be ${{datasource}}, is {p.get('datasource')!r}")
    unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
    if not unit:
        report.add(pw, "panel-units", "fieldConfig.defaults.unit is not set")
    removed = set()
    for t in p.get("transformations") or []:
        if t.get("id") == "organize":
            removed |= {k for k, v in ((t.get("options") or {}).get("excludeByName") or {}).items() if v}
    for text in walk_strings(p.get("fieldConfig")):
        for field in re.findall(r"__data\.fields\.([A-Za-z0-9_]+)", text):
            if field in removed:
                report.add(pw, "link-fields", f"a link reads ${{__data.fields.{field}}}, which organize removes; hide the column with custom.hidden instead")
    targets = p.get("targets") or []
    if not targets:
        report.add(pw, "panel-targets", "has no query")
    refs = set()
    for t in targets:
        tw = f"{pw} target {t.get('refId')}"
        if t.get("refId") in refs:
            report.add(tw, "panel-targets", "duplicate refId")
        refs.add(t.get("refId"))
        if (t.get("datasource") or {}).get("uid") not in DS_VALUES:
            report.add(tw, "panel-datasource", f"target datasource must be ${{datasource}}, is {t.get('datasource')!r}")
        expr = t.get("expr") or ""
        if not expr.strip():
            report.add(tw, "panel-targets", "has no expr")
            continue
        if ptype == "table" and t.get("format") != "table":
            report.add(tw, "panel-targets", "table panels need format \"table\" (instant) so merge can join rows")
        lint_expr(expr, tw, report)


def lint_dashboard(path, text, dash, report, known_uids):
    where = os.path.relpath(path, ROOT) if path.startswith(ROOT) else path
    for bad in ("__inputs", "__requires", "${DS_", "$DS_"):
        if bad in text:
            report.add(where, "provisioned", f"contains {bad!r}: export for sharing externally is off; provisioned JSON must not use it")
    if dash.get("id") is not None:
        report.add(where, "provisioned", "dashboard id must be null (Grafana assigns it)")
    uid = dash.get("uid")
    if not isinstance(uid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid):
        report.add(where, "uid", f"uid must be 1-40 characters of [A-Za-z0-9_-], is {uid!r}")
    if not (dash.get("title") or "").strip():
        report.add(where, "panel-title", "dashboard has no title")
    defined = lint_templating(dash, where, report)
    all_panels = list(iter_panels(dash.get("panels")))
    ids = {}
    for p in all_panels:
        pid = p.get("id")
        if not isinstance(pid, int):
            report.add(f"{where}: panel {p.get('title')!r}", "panel-ids", f"id must be an integer, is {pid!r}")
        elif pid in ids:
            report.add(f"{where}: panel {p.get('title')!r}", "panel-ids", f"id {pid} is also used by {ids[pid]!r}")
        else:
            ids[pid] = p.get("title")
    check_gridpos(dash.get("panels") or [], where, report)
    lint_questions(dash, where, all_panels, report)
    for p in all_panels:
        lint_panel(p, where, report, defined)
    for s in walk_strings(dash):
        for name in var_refs(s):
            if name not in defined and name not in BUILTIN_VARS and not name.isdigit():
                report.add(where, "template-refs", f"${name} is not a defined variable (in {s[:80]!r})")
        for m in re.finditer(r"/d/([A-Za-z0-9_-]+)", s):
            if known_uids is not None and m.group(1) not in known_uids:
                report.add(where, "link-target", f"link to /d/{m.group(1)} but no linted dashboard has that uid")


# The 3 am questions each shipped dashboard must answer (issue 14): uid -> [(what, panel type or
# None for any, a regex one of its queries must match)].
QUESTIONS = {
    "llm-probe-overview": [
        ("what is firing now: a table of firing LLMProbe alerts", "table", r'ALERTS\{alertname=~"LLMProbe\.\*"'),
        ("since when: time() - llm_probe_last_success_timestamp_seconds", "table", r"time\(\) - .*llm_probe_last_success_timestamp_seconds"),
        ("which backup: the exporter's own failover order", "table", r"llm_probe_group_rank\{"),
        ("exporter health: schedule lag p99", None, r"histogram_quantile\(0\.99, .*llm_probe_exporter_schedule_lag_seconds_bucket"),
        ("exporter health: scrape duration", None, r"scrape_duration_seconds\{"),
        ("exporter health: file descriptors", None, r"process_open_fds\{.*process_max_fds\{"),
        ("exporter health: restarts", None, r"changes\(process_start_time_seconds\{"),
    ],
    "llm-probe-detail": [
        ("latency heatmap of real results", "heatmap", r"llm_probe_duration_seconds_bucket\{"),
        ("certificate expiry", None, r"llm_probe_tls_cert_expiry_timestamp_seconds\{"),
        ("30-day error budget, not the dashboard range", "stat", r"llm_probe_total\{[^}]*\}\[30d\]"),
    ],
}


def lint_questions(dash, where, panels, report):
    for what, ptype, pattern in QUESTIONS.get(dash.get("uid"), []):
        if not any((ptype is None or p.get("type") == ptype)
                   and any(re.search(pattern, t.get("expr") or "", re.S) for t in p.get("targets") or [])
                   for p in panels):
            report.add(where, "questions", f"no {ptype or 'panel'} answers: {what} (a query matching {pattern!r})")
    if dash.get("uid") in QUESTIONS and not any(
            "ALERTS{" in (a.get("expr") or "") for a in (dash.get("annotations") or {}).get("list", [])):
        report.add(where, "questions", "no annotation of firing alerts (a Prometheus annotation on ALERTS{...})")


def lint_files(paths):
    report = Report()
    loaded = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            loaded.append((path, text, json.loads(text)))
        except (OSError, ValueError) as e:
            report.add(path, "provisioned", f"cannot read JSON: {e}")
    uids = {}
    for path, _, dash in loaded:
        uid = dash.get("uid")
        if uid in uids:
            report.add(path, "uid", f"uid {uid!r} is also used by {uids[uid]}")
        uids[uid] = path
    for path, text, dash in loaded:
        lint_dashboard(os.path.abspath(path), text, dash, report, set(uids))
    return report


# ---------------------------------------------------------------------------------------------
def first_panel(dash, pred=lambda p: True):
    return next(p for p in iter_panels(dash["panels"]) if p.get("type") != "row" and pred(p))


def _break_rate(d):
    window = re.compile(r"\[\$__(rate_interval|range)\]")
    p = first_panel(d, lambda p: any(window.search(t.get("expr", "")) for t in p["targets"]))
    t = next(t for t in p["targets"] if window.search(t["expr"]))
    t["expr"] = window.sub("[5m]", t["expr"], count=1)


def _break_job(d):
    p = first_panel(d, lambda p: any('job=~"$job", ' in t.get("expr", "") for t in p["targets"]))
    t = next(t for t in p["targets"] if 'job=~"$job", ' in t["expr"])
    t["expr"] = t["expr"].replace('job=~"$job", ', "", 1)


def _overlap(d):
    panels = [p for p in d["panels"] if p["type"] != "row"]
    panels[1]["gridPos"] = dict(panels[0]["gridPos"])


def _dup_id(d):
    panels = [p for p in d["panels"] if p["type"] != "row"]
    panels[1]["id"] = panels[0]["id"]


def _exclude_link_field(d):
    for p in iter_panels(d["panels"]):
        links = json.dumps(p.get("fieldConfig"))
        m = re.search(r"__data\.fields\.([A-Za-z0-9_]+)", links)
        if m:
            org = next(t for t in p["transformations"] if t["id"] == "organize")
            org["options"]["excludeByName"][m.group(1)] = True
            return
    # No data links in this dashboard: add one that reads a removed field.
    p = first_panel(d, lambda p: any(t.get("id") == "organize" for t in p.get("transformations") or []))
    org = next(t for t in p["transformations"] if t["id"] == "organize")
    org["options"]["excludeByName"]["job"] = True
    p["fieldConfig"]["overrides"].append({"matcher": {"id": "byName", "options": "Target"}, "properties": [
        {"id": "links", "value": [{"title": "x", "url": "/d/llm-probe-detail/x?var-job=${__data.fields.job}"}]}]})


BREAKAGES = [
    # (name, rule that must be reported, mutation of a dashboard dict)
    ("unit removed", "panel-units", lambda d: first_panel(d)["fieldConfig"]["defaults"].pop("unit")),
    ("description removed", "panel-description", lambda d: first_panel(d).pop("description")),
    ("exported for sharing", "provisioned", lambda d: (d.__setitem__("__inputs", [{"name": "DS_PROMETHEUS"}]),
                                                       first_panel(d).__setitem__("datasource", {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}))),
    ("panel datasource hard-coded", "panel-datasource", lambda d: first_panel(d).__setitem__("datasource", {"type": "prometheus", "uid": "prometheus"})),
    ("duplicate panel id", "panel-ids", _dup_id),
    ("overlapping panels", "gridpos", _overlap),
    ("fixed rate window", "rate-interval", _break_rate),
    ("old panel type", "panel-type", lambda d: first_panel(d).__setitem__("type", "graph")),
    ("job matcher removed", "target-job", _break_job),
    ("job variable removed", "template-vars", lambda d: d["templating"].__setitem__("list", [v for v in d["templating"]["list"] if v["name"] != "job"])),
    ("uid removed", "uid", lambda d: d.pop("uid")),
    ("unbalanced query", "promql-syntax", lambda d: first_panel(d)["targets"][0].__setitem__("expr", first_panel(d)["targets"][0]["expr"] + ")")),
    ("link field removed by organize", "link-fields", _exclude_link_field),
    ("link to an unknown dashboard", "link-target", lambda d: d["links"].append({"title": "x", "type": "link", "url": "/d/no-such-uid/x"})),
    ("region matcher removed", "target-region", lambda d: first_panel(d)["targets"][0].__setitem__(
        "expr", first_panel(d)["targets"][0]["expr"].replace(', region=~"$region"', ""))),
    ("a 3 am question left unanswered", "questions", lambda d: d.__setitem__("panels", [
        p for p in d["panels"] if not any(re.search(r"ALERTS\{|\[30d\]", t.get("expr") or "") for t in p.get("targets") or [])])),
]


def self_test(paths):
    failures = []
    with tempfile.TemporaryDirectory(prefix="lint-dashboards-") as tmp:
        pristine = lint_files(paths)
        if pristine.problems:
            failures.append("the shipped dashboards do not lint clean:\n  " + "\n  ".join(pristine.problems))
        for path in paths:
            with open(path, encoding="utf-8") as f:
                original = json.load(f)
            for name, rule, mutate in BREAKAGES:
                broken = copy.deepcopy(original)
                mutate(broken)
                copies = []
                for other in paths:  # lint with the other dashboards, so links still resolve
                    dst = os.path.join(tmp, os.path.basename(other))
                    if other == path:
                        with open(dst, "w", encoding="utf-8") as f:
                            json.dump(broken, f, indent=2)
                    else:
                        with open(other, encoding="utf-8") as s, open(dst, "w", encoding="utf-8") as f:
                            f.write(s.read())
                    copies.append(dst)
                # Run the linter as CI does, as a process: it must exit 1 and name the rule.
                proc = subprocess.run([sys.executable, os.path.abspath(__file__), *copies],
                                      capture_output=True, text=True)
                hits = [l for l in proc.stdout.splitlines() if f"[{rule}]" in l]
                label = f"{os.path.basename(path)} / {name}"
                if proc.returncode != 1 or not hits:
                    failures.append(f"{label}: expected exit 1 with a [{rule}] line, got exit {proc.returncode}:\n{proc.stdout}{proc.stderr}")
                else:
                    print(f"ok   {label}: {hits[0]}")
    if failures:
        print("\nSELF-TEST FAILED:\n" + "\n".join(failures))
        return 1
    print(f"self-test: {len(BREAKAGES) * len(paths)} broken copies, each reported")
    return 0


def lint_provisioning(report):
    try:
        import yaml
    except ImportError:
        report.add("grafana/provisioning", "provisioning", "python3-yaml is needed to check the provisioning files")
        return
    base = os.path.join(ROOT, "grafana", "provisioning")
    sources, providers = [], []
    for path in sorted(glob.glob(os.path.join(base, "datasources", "*.y*ml"))):
        with open(path) as f:
            sources += (yaml.safe_load(f) or {}).get("datasources") or []
    for path in sorted(glob.glob(os.path.join(base, "dashboards", "*.y*ml"))):
        with open(path) as f:
            providers += (yaml.safe_load(f) or {}).get("providers") or []
    prom = [d for d in sources if d.get("type") == "prometheus"]
    if not prom:
        report.add("grafana/provisioning/datasources", "provisioning", "no data source of type prometheus")
    for d in prom:
        if not d.get("uid") or not d.get("url"):
            report.add("grafana/provisioning/datasources", "provisioning", f"data source {d.get('name')!r} needs a uid and a url")
    if not any(p.get("type") == "file" and (p.get("options") or {}).get("path") == "/var/lib/grafana/dashboards"
               for p in providers):
        report.add("grafana/provisioning/dashboards", "provisioning",
                   "no file provider reading /var/lib/grafana/dashboards (where the compose file mounts grafana/dashboards)")


def main(argv):
    args = argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    selftest = "--self-test" in args
    args = [a for a in args if a != "--self-test"]
    if any(a.startswith("-") for a in args):
        print(__doc__, file=sys.stderr)
        return 2
    paths = args or sorted(glob.glob(os.path.join(ROOT, "grafana", "dashboards", "*.json")))
    if not paths:
        print("lint_dashboards: no dashboards found", file=sys.stderr)
        return 2
    if selftest:
        return self_test(paths)
    report = lint_files(paths)
    if not args:
        lint_provisioning(report)
    for line in report.problems:
        print(line)
    if report.problems:
        print(f"lint_dashboards: {len(report.problems)} problem(s) in {len(paths)} dashboard(s)")
        return 1
    print(f"lint_dashboards: {len(paths)} dashboard(s) clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
