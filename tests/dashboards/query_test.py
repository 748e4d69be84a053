#!/usr/bin/env python3
"""Runs every query of the Grafana dashboards against a real Prometheus that scraped the real
exporter, and fails on any query that errors or returns no series.

Full test (ctest dashboards_query):
  query_test.py --exporter BUILD/src/llm_probe_exporter --mock-upstream BUILD/tools/mock_upstream/mock_upstream
    1. starts the mock upstream (healthy, slow, flaky 429, 401, 503, wrong served model and
       streaming scenarios), the exporter probing it every 2s (failover groups, a models probe with
       expect_models, chat, stream and embeddings probes, pricing) and Prometheus (scrape and rule
       evaluation every 1s, deploy/prometheus/rules/*.yml loaded), all on 127.0.0.1;
    2. polls every query (bounded, --wait seconds) until each returns series — the slowest is
       the 1-minute rule group (llm_probe:probe_error_ratio:rate1d / rate3d), so about a minute;
    3. checks the shipped dashboards: each variable's label_values() returns values, each panel
       query returns series as an instant query and, for range targets, as a range query (only
       the panels in ALLOWED_EMPTY may return nothing; Prometheus annotations, such as the firing
       alerts, are range queries that must return series too, each for the reason written there; their
       queries must still parse and evaluate);
    4. breaks copies of the dashboards (a misspelled metric, a syntax error) and runs this script
       on them against the same Prometheus: it must exit 1 naming the broken panel.

Check only (e.g. against your own Prometheus):
  query_test.py --prometheus-url http://127.0.0.1:9090 [--wait SECONDS] [DASHBOARD.json ...]

Grafana variables are substituted as a dashboard with every variable on "All" would send them:
the variable's allValue (".*" for $instance $target $probe $model $group), or else, like
Grafana's default All, the alternation of its values from label_values() ($job →
"(llm_probe_exporter)"); $__rate_interval → 15s, $__range → 2m, $__interval → 5s. Short windows keep the run short; the dashboards'
queries read nothing that needs a longer history than that (the recording rules' long windows
are evaluated over whatever data exists).
"""
import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashstack  # noqa: E402

ROOT = dashstack.ROOT
SUBS = {"__rate_interval": "15s", "__range": "2m", "__interval": "5s", "__range_s": "120",
        "__range_ms": "120000", "__interval_ms": "5000", "datasource": "prometheus"}
ALL = ".*"
VAR_REF = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\]")
RANGE_SECONDS, RANGE_STEP = 60, 5


def substitute(expr, values):
    """values: variable name -> what a dashboard with that variable on All sends."""
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in SUBS:
            return SUBS[name]
        if name in values:
            return values[name]
        raise KeyError(name)
    return VAR_REF.sub(repl, expr)


def regex_escape(value):
    # What Grafana's Prometheus data source does to each value of a multi-value variable: the
    # backslash doubled inside the PromQL string.
    return re.sub(r"([\\^$*+?.()|{}\[\]])", r"\\\\\1", value)


def label_values(prom, selector, label):
    now = time.time()
    return sorted(dashstack.prom_get(prom, f"/api/v1/label/{label}/values",
                                     {"match[]": selector, "start": now - 300, "end": now}))


def resolve_variables(prom, dash):
    """Every variable on All, in dashboard order (later variables read earlier ones): allValue
    when set (".*"), else Grafana's default, the alternation of the variable's values."""
    values = {"datasource": "prometheus"}
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            values.setdefault(v["name"], ALL)
            continue
        if v.get("allValue"):
            values[v["name"]] = v["allValue"]
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q
        m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", q or "", re.S)
        try:
            found = label_values(prom, substitute(m.group(1), values), m.group(2)) if m else []
        except (KeyError, dashstack.PromError):
            found = []
        values[v["name"]] = "(" + "|".join(regex_escape(x) for x in found) + ")" if found else ALL
    return values


def iter_panels(panels):
    for p in panels or []:
        yield p
        yield from iter_panels(p.get("panels"))


def collect(prom, paths):
    """Returns (checks, problems): checks as dicts with kind var/instant/range."""
    checks, problems = [], []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
        dname = os.path.basename(path)
        variables = resolve_variables(prom, dash)
        for v in dash.get("templating", {}).get("list", []):
            if v.get("type") != "query":
                continue
            q = v.get("query")
            q = q.get("query", "") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", q or "", re.S)
            where = f"{dname}: variable ${v['name']}"
            if not m:
                problems.append(f"{where}: not a label_values() query: {q!r}")
                continue
            try:
                checks.append({"kind": "var", "where": where, "label": m.group(2),
                               "query": substitute(m.group(1), variables), "raw": q})
            except KeyError as e:
                problems.append(f"{where}: unknown variable ${e.args[0]} in {q!r}")
        for a in dash.get("annotations", {}).get("list", []):
            if not a.get("expr"):
                continue  # Grafana's built-in annotations
            where = f"{dname}: annotation {a.get('name')!r}"
            try:
                checks.append({"kind": "range", "where": where, "query": substitute(a["expr"], variables),
                               "raw": a["expr"]})
            except KeyError as e:
                problems.append(f"{where}: unknown variable ${e.args[0]}\n    {a['expr']}")
        for p in iter_panels(dash.get("panels")):
            if p.get("type") == "row":
                continue
            for t in p.get("targets") or []:
                where = f"{dname}: panel {p.get('title')!r} (id {p.get('id')}) query {t.get('refId')}"
                expr = t.get("expr") or ""
                if not expr.strip():
                    problems.append(f"{where}: empty query")
                    continue
                try:
                    query = substitute(expr, variables)
                except KeyError as e:
                    problems.append(f"{where}: unknown variable ${e.args[0]}\n    {expr}")
                    continue
                kinds = []
                if t.get("instant") or not t.get("range", True):
                    kinds.append("instant")
                else:
                    kinds += ["instant", "range"]  # Grafana runs range; instant shows 'now'
                allowed_empty = ALLOWED_EMPTY.get((dname, p.get("title")))
                for kind in kinds:
                    checks.append({"kind": kind, "where": where, "query": query, "raw": expr,
                                   "allowed_empty": allowed_empty})
    return checks, problems


# Panels whose queries may return nothing here, each with the reason. Everything else must
# return series.
ALLOWED_EMPTY = {
    ("llm-probe-detail.json", "Certificate expiry"):
        "the mock upstream speaks plain HTTP, so the exporter has no certificate to report "
        "(llm_probe_tls_cert_expiry_timestamp_seconds is absent)",
}


def run_check(prom, c):
    """None when the check passes, else the reason."""
    try:
        if c["kind"] == "var":
            now = time.time()
            values = dashstack.prom_get(prom, f"/api/v1/label/{c['label']}/values",
                                        {"match[]": c["query"], "start": now - 300, "end": now})
            return None if values else "label_values() returned no values"
        if c["kind"] == "instant":
            result = dashstack.instant(prom, c["query"])
        else:
            end = time.time()
            result = dashstack.query_range(prom, c["query"], end - RANGE_SECONDS, end, RANGE_STEP)
        if not result and c.get("allowed_empty"):
            return None
        return None if result else "returned no series"
    except dashstack.PromError as e:
        return f"query failed: {e}"


def check_all(prom, checks):
    failures = []
    for c in checks:
        reason = run_check(prom, c)
        if reason:
            failures.append((c, reason))
    return failures


def report(failures):
    for c, reason in failures:
        print(f"FAIL {c['where']} ({c['kind']}): {reason}\n    {c['raw']}\n    as sent: {c['query']}")


def check_dashboards(prom, paths, wait):
    deadline = time.monotonic() + wait
    last_note = 0
    while True:
        # Collected again each round: variables without allValue expand to the values found.
        checks, problems = collect(prom, paths)
        failures = check_all(prom, checks)
        # Errors (bad syntax, unknown functions) never heal by waiting; empty results might.
        errors = [f for f in failures if f[1].startswith("query failed")]
        if not failures or errors or time.monotonic() >= deadline:
            break
        if time.monotonic() - last_note >= 10:
            pending = sorted({c["where"] for c, _ in failures})
            dashstack.log(f"waiting for data: {len(pending)} queries without series yet, e.g. {pending[0]}")
            last_note = time.monotonic()
        time.sleep(2)
    for p in problems:
        print(f"FAIL {p}")
    report(failures)
    ok = not failures and not problems
    n_panels = len({c["where"] for c in checks if c["kind"] != "var"})
    n_vars = len([c for c in checks if c["kind"] == "var"])
    print(f"query_test: {'PASS' if ok else 'FAIL'}: {len(checks)} checks ({n_panels} panel queries, "
          f"{n_vars} variables) in {len(paths)} dashboard(s); {len(failures) + len(problems)} failed")
    return ok


# -- broken copies -------------------------------------------------------------------------------
def _first_target(dash, pred):
    for p in iter_panels(dash["panels"]):
        if p.get("type") == "row":
            continue
        for t in p.get("targets") or []:
            if pred(t.get("expr") or ""):
                return p, t
    raise LookupError("no matching query")


def break_metric(dash):
    p, t = _first_target(dash, lambda e: "llm_probe_" in e)
    t["expr"] = re.sub(r"llm_probe_([a-z_]+)", r"llm_probe_\1_typo", t["expr"], count=1)
    return p["title"], "misspelled metric", "returned no series"


def break_syntax(dash):
    p, t = _first_target(dash, lambda e: "(" in e)
    t["expr"] = t["expr"].replace("(", "((", 1)
    return p["title"], "syntax error", "query failed"


def broken_copy_tests(prom, paths):
    ok = True
    with tempfile.TemporaryDirectory(prefix="query-test-broken-") as tmp:
        for path in paths:
            for breaker in (break_metric, break_syntax):
                with open(path, encoding="utf-8") as f:
                    dash = json.load(f)
                title, what, expected = breaker(dash)
                broken = os.path.join(tmp, os.path.basename(path))
                with open(broken, "w", encoding="utf-8") as f:
                    json.dump(dash, f, indent=2)
                proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--prometheus-url", prom,
                                       "--wait", "0", broken], capture_output=True, text=True)
                fails = [l for l in proc.stdout.splitlines() if l.startswith("FAIL")]
                hit = [l for l in fails if repr(title) in l and expected in l]
                label = f"broken copy of {os.path.basename(path)} ({what} in panel {title!r})"
                if proc.returncode == 1 and hit and len(fails) == 1:
                    print(f"ok   {label}: reported as: {hit[0]}")
                else:
                    ok = False
                    print(f"FAIL {label}: expected exit 1 and exactly that panel reported, got exit "
                          f"{proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exporter")
    ap.add_argument("--mock-upstream")
    ap.add_argument("--prometheus-url")
    ap.add_argument("--wait", type=float, default=None, help="seconds to wait for data (default 150 with a stack, 0 with --prometheus-url)")
    ap.add_argument("--keep", action="store_true", help="keep the stack's temporary directory (logs)")
    ap.add_argument("dashboards", nargs="*")
    args = ap.parse_args()
    paths = args.dashboards or sorted(glob.glob(os.path.join(ROOT, "grafana", "dashboards", "*.json")))
    if not paths:
        print("query_test: no dashboards found")
        return 2
    if args.prometheus_url:
        return 0 if check_dashboards(args.prometheus_url, paths, args.wait or 0) else 1
    if not (args.exporter and args.mock_upstream):
        ap.error("give --exporter and --mock-upstream (or --prometheus-url)")

    dashstack.install_signal_handlers()
    started = time.monotonic()
    stack = dashstack.Stack(args.exporter, args.mock_upstream, keep=args.keep)
    try:
        stack.start()
        ok = check_dashboards(stack.prom_url, paths, 150 if args.wait is None else args.wait)
        if ok:
            dashstack.log("the shipped dashboards pass; now broken copies must fail")
            ok = broken_copy_tests(stack.prom_url, paths)
        else:
            for name in ("exporter", "mock_upstream"):
                print(f"--- {name} log (tail) ---\n{stack.tail(name)}")
    except (RuntimeError, OSError, KeyboardInterrupt) as e:
        print(f"query_test: FAIL: {e}")
        ok = False
    finally:
        stack.stop()
    dashstack.log(f"{'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
