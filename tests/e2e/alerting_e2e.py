#!/usr/bin/env python3
"""End-to-end alerting test: mock upstream -> exporter -> Prometheus -> Alertmanager -> webhook.

Everything runs on 127.0.0.1 on free ports, in a temporary folder, and is stopped at the end
(also on failure, Ctrl-C or SIGTERM):

  mock_upstream      scenarios primary, backup, solo (tools/mock_upstream)
  llm_probe_exporter interval 1s, failure_threshold 2; group "chat" = [primary, backup];
                     "solo" in no group, healthy until step 6 (no other alert may name it)
  prometheus         scrape and evaluation every 1s, --rules.alert.resend-delay=1s, loading the
                     shipped deploy/prometheus/rules/*.yml through tests/e2e/shorten_rules.py:
                     every `for` / `keep_firing_for` divided by --for-divisor (default 6: 1m ->
                     10s, keep_firing_for 5m -> 50s); the expressions are the shipped ones
  alertmanager       deploy/alertmanager/make-e2e-config.py --webhook-base <sink>: the shipped
                     routes and inhibit rules, every receiver a webhook to the sink
  webhook sink       an http.server thread in this process, recording every notification

Script (each step has a bounded wait and says what it waited for when it fails):
  1 all healthy                    -> no notification at all, no alert pending or firing
  2 primary answers 503            -> ticket: LLMProbeDown{target=primary,severity=warning}
                                      and LLMProbeFailoverGroupDegraded{group=chat}
  3 backup answers 503 too         -> pager: LLMProbeFailoverGroupDown{group=chat}; the members'
                                      LLMProbeDown are inhibited (Alertmanager API: suppressed,
                                      and no LLMProbeDown notification for backup at the sink)
  4 primary answers 401            -> pager: LLMProbeAuthFailure{target=primary} with its
                                      runbook_url, whose section exists in docs/runbook.md
  5 primary and backup recover     -> resolved notifications for every alert that was notified
                                      (LLMProbeDown only after keep_firing_for)
  6 solo's key is rejected (401),  -> pager: LLMProbeAuthFailure{target=solo}; after the fix its
    then fixed                        resolved notification and NO page at all for LLMProbeDown of
                                      solo (issue 14: the inhibited symptom must not outlive the
                                      cause alert and page as new)
  all along                        -> LLMProbeWatchdog at receiver watchdog, never anywhere else

Per alert it prints the seconds from the fault injection (the PUT to the mock) to the
notification at the sink, and with --report FILE writes them as a Markdown table.

LLMProbeErrorBudgetBurn is recorded but not scripted: a target failing 100 % burns its budget
far above 3x within seconds of test history, so its ticket may open during the run, and its
windows outlast the test after recovery. Both targets are failover-group members, so it must
never page. Any other unexpected notification fails the test.

    alerting_e2e.py --exporter build/src/llm_probe_exporter \\
        --mock build/tools/mock_upstream/mock_upstream [--source-dir .] [--report FILE] [--keep]

Needs: prometheus, prometheus-alertmanager, amtool, promtool (Debian bookworm packages), python3
with PyYAML.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Alerts that may arrive at any time without being part of the script (see the docstring).
ALLOWED_UNSCRIPTED = {"LLMProbeErrorBudgetBurn"}
# The always-firing heartbeat; it must reach its own receiver and no other.
WATCHDOG = "LLMProbeWatchdog"


class E2EFailure(Exception):
    pass


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=5.0):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# ------------------------------------------------------------------------------------------------
# Webhook sink

class Sink:
    """Records every Alertmanager webhook notification with the time it arrived."""

    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.notifications = []  # (arrival time, receiver, payload)
        self.log_file = open(log_path, "a")
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                arrived = time.time()
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = {"unparsable": raw.decode(errors="replace")}
                receiver = self.path.rstrip("/").rsplit("/", 1)[-1]
                sink.record(arrived, receiver, payload)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
        self.log_file.close()

    def record(self, arrived, receiver, payload):
        with self.lock:
            self.notifications.append((arrived, receiver, payload))
            self.log_file.write(json.dumps({"arrived": arrived, "receiver": receiver,
                                            "payload": payload}) + "\n")
            self.log_file.flush()
        alerts = ", ".join(f"{a.get('status')}:{describe(a.get('labels', {}))}"
                           for a in payload.get("alerts", []))
        log(f"sink <- {receiver}: {payload.get('status')} [{alerts}]")

    def events(self):
        """One event per alert per notification: (arrived, receiver, alert status, labels, annotations)."""
        with self.lock:
            items = list(self.notifications)
        out = []
        for n, (arrived, receiver, payload) in enumerate(items):
            for alert in payload.get("alerts", []):
                labels = alert.get("labels", {})
                out.append({"arrived": arrived, "receiver": receiver, "status": alert.get("status"),
                            "labels": labels, "annotations": alert.get("annotations", {}),
                            # one key per notification, alert name and status: a table row
                            "key": (n, labels.get("alertname"), alert.get("status"))})
        return out

    def count(self):
        with self.lock:
            return len(self.notifications)


def describe(labels):
    keys = ["alertname", "severity", "group", "target", "probe"]
    return "{" + ",".join(f"{k}={labels[k]}" for k in keys if k in labels) + "}"


def matches(labels, want):
    return all(labels.get(k) == v for k, v in want.items())


# ------------------------------------------------------------------------------------------------
# Processes

class Processes:
    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []  # (name, Popen, log path)

    def start(self, name, argv):
        log_path = os.path.join(self.workdir, f"{name}.log")
        out = open(log_path, "wb")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=self.workdir, start_new_session=True)
        out.close()
        self.procs.append((name, proc, log_path))
        log(f"started {name} (pid {proc.pid}): {' '.join(argv)}")
        return proc

    def check_alive(self):
        for name, proc, log_path in self.procs:
            if proc.poll() is not None:
                raise E2EFailure(f"{name} exited with code {proc.returncode}; see {log_path}")

    def stop_all(self):
        for name, proc, _ in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()  # by pid, never by name
        deadline = time.time() + 15
        for name, proc, _ in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                log(f"{name} ignored SIGTERM; killing pid {proc.pid}")
                proc.kill()
                proc.wait()

    def dump_logs(self, lines=25):
        for name, _, log_path in self.procs:
            try:
                with open(log_path, errors="replace") as f:
                    tail = f.readlines()[-lines:]
            except OSError:
                continue
            print(f"----- last {len(tail)} lines of {name} ({log_path})", file=sys.stderr)
            sys.stderr.writelines(tail)


# ------------------------------------------------------------------------------------------------
# The test

class E2E:
    def __init__(self, args, workdir):
        self.args = args
        self.src = os.path.abspath(args.source_dir)
        self.workdir = workdir
        self.procs = Processes(workdir)
        self.sink = Sink(os.path.join(workdir, "sink.jsonl"))
        self.steps = []  # (step number, time of the fault injection, what)
        self.checked = set()  # ids of events the script asserted
        self.notes = []
        self.divisor = args.for_divisor
        self.for_s = 60 / self.divisor           # LLMProbeDown / group alerts: for 1m
        self.keep_firing_s = 300 / self.divisor  # LLMProbeDown: keep_firing_for 5m
        self.group_keep_firing_s = 360 / self.divisor  # LLMProbeFailoverGroupDown: keep_firing_for 6m

    # -- helpers --------------------------------------------------------------------------------
    def wait_for(self, what, predicate, timeout):
        deadline = time.time() + timeout
        while True:
            self.procs.check_alive()
            result = predicate()
            if result:
                return result
            if time.time() > deadline:
                raise E2EFailure(f"timed out after {timeout:.0f}s waiting for: {what}\n"
                                 + self.state())
            time.sleep(0.2)

    def state(self):
        lines = ["  Prometheus ALERTS:"]
        try:
            for series in self.query('ALERTS'):
                m = series["metric"]
                lines.append(f"    {m.get('alertstate')} {describe(m)}")
        except Exception as error:  # noqa: BLE001 - diagnostics only
            lines.append(f"    (query failed: {error})")
        lines.append("  Alertmanager alerts:")
        try:
            for alert in self.am_alerts():
                st = alert["status"]
                lines.append(f"    {st['state']} {describe(alert['labels'])}"
                             + (f" inhibitedBy={st['inhibitedBy']}" if st.get("inhibitedBy") else ""))
        except Exception as error:  # noqa: BLE001
            lines.append(f"    (request failed: {error})")
        lines.append("  sink notifications:")
        for e in self.sink.events():
            lines.append(f"    +{e['arrived'] - self.t_start:6.1f}s {e['receiver']} {e['status']} "
                         f"{describe(e['labels'])}")
        return "\n".join(lines)

    def query(self, expr):
        status, body = http("GET", f"{self.prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if status != 200:
            raise E2EFailure(f"Prometheus query {expr!r} failed: {status} {body[:300]}")
        return json.loads(body)["data"]["result"]

    def am_alerts(self, **filters):
        params = [("filter", f'{k}="{v}"') for k, v in filters.items()]
        status, body = http("GET", f"{self.am}/api/v2/alerts?" + urllib.parse.urlencode(params))
        if status != 200:
            raise E2EFailure(f"Alertmanager /api/v2/alerts failed: {status} {body[:300]}")
        return json.loads(body)

    def set_scenario(self, scenario, behaviour):
        status, body = http("PUT", f"{self.mock}/_mock/scenarios/{scenario}", behaviour)
        if status != 200:
            raise E2EFailure(f"mock control API refused {scenario} = {behaviour}: {status} {body}")
        log(f"mock: scenario {scenario} := {json.dumps(behaviour)}")

    def first_event(self, want, status="firing", receiver=None, after=0.0):
        for e in self.sink.events():
            if e["arrived"] >= after and e["status"] == status and matches(e["labels"], want) \
                    and (receiver is None or e["receiver"] == receiver):
                return e
        return None

    def expect(self, step, t_fault, want, status="firing", receiver=None, timeout=None):
        timeout = timeout or (self.for_s + 45)
        what = (f"{status} notification of {describe(want)}"
                + (f" to receiver {receiver}" if receiver else "") + f" (step {step})")
        event = self.wait_for(what, lambda: self.first_event(want, status, receiver, t_fault), timeout)
        seconds = event["arrived"] - t_fault
        log(f"OK {what}: {seconds:.1f}s after the fault")
        self.checked.add(event["key"])
        return event

    def unexpected(self, allowed):
        """Firing/resolved events that match none of `allowed` and are not ALLOWED_UNSCRIPTED."""
        bad = []
        for e in self.sink.events():
            if e["labels"].get("alertname") in ALLOWED_UNSCRIPTED:
                continue
            if e["labels"].get("alertname") == WATCHDOG and e["receiver"] == "watchdog":
                continue
            if not any(matches(e["labels"], want) for want in allowed):
                bad.append(e)
        return bad

    # -- set-up ---------------------------------------------------------------------------------
    def setup(self):
        w = self.workdir
        for tool in (self.args.prometheus, self.args.alertmanager, "promtool", "amtool"):
            if not shutil.which(tool):
                raise E2EFailure(f"{tool} not found: install the Debian packages prometheus and "
                                 "prometheus-alertmanager (scripts/install-deps.sh --test)")
        self.sink.start()
        self.t_start = time.time()
        sink_base = f"http://127.0.0.1:{self.sink.port}/e2e"
        log(f"webhook sink on {sink_base}/<receiver>")

        # Mock upstream on a free port it picks itself; the port is in its start line.
        self.procs.start("mock_upstream", [self.args.mock, "--listen", "127.0.0.1:0"])
        mock_log = os.path.join(w, "mock_upstream.log")

        def mock_port():
            with open(mock_log, errors="replace") as f:
                m = re.search(r"listening on port (\d+)", f.read())
            return m and int(m.group(1))
        port = self.wait_for("mock_upstream start line", mock_port, 15)
        self.mock = f"http://127.0.0.1:{port}"

        # Exporter.
        keys = os.path.join(w, "keys")
        os.makedirs(keys)
        for name in ("primary", "backup", "solo"):
            with open(os.path.join(keys, name), "w") as f:
                f.write(f"sk-e2e-{name}\n")
            os.chmod(os.path.join(keys, name), 0o600)
        exporter_config = os.path.join(w, "exporter.yml")
        with open(exporter_config, "w") as f:
            f.write(f"""# Generated by tests/e2e/alerting_e2e.py
global:
  interval: 1s
  timeout: 800ms
  jitter: 0%
  failure_threshold: 2
  recovery_threshold: 1
  history_size: 50
groups:
  - name: chat
    targets: [primary, backup]
targets:
  - name: primary
    base_url: {self.mock}/s/primary/v1
    api_key_file: {keys}/primary
    probes:
      - {{name: chat, type: chat, model: gpt-4o, max_tokens: 5}}
  - name: backup
    base_url: {self.mock}/s/backup/v1
    api_key_file: {keys}/backup
    probes:
      - {{name: chat, type: chat, model: gpt-4o, max_tokens: 5}}
  - name: solo
    base_url: {self.mock}/s/solo/v1
    api_key_file: {keys}/solo
    probes:
      - {{name: models, type: models, expect_models: [gpt-4o]}}
pricing:
  gpt-4o: {{input: 2.50, output: 10.00}}
""")
        check = subprocess.run([self.args.exporter, f"--config.file={exporter_config}", "--config.check"],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise E2EFailure(f"exporter --config.check failed: {check.stdout}{check.stderr}")
        exporter_port = free_port()
        self.exporter = f"http://127.0.0.1:{exporter_port}"
        self.procs.start("llm_probe_exporter", [
            self.args.exporter, f"--config.file={exporter_config}",
            f"--web.listen-address=127.0.0.1:{exporter_port}", "--log.level=info"])

        # Alertmanager: the shipped routes and inhibit rules, receivers pointed at the sink.
        am_config = os.path.join(w, "alertmanager.yml")
        subprocess.run([sys.executable, os.path.join(self.src, "deploy/alertmanager/make-e2e-config.py"),
                        "--webhook-base", sink_base, "-o", am_config], check=True)
        subprocess.run(["amtool", "check-config", am_config], check=True, stdout=subprocess.DEVNULL)
        am_port = free_port()
        self.am = f"http://127.0.0.1:{am_port}"
        self.procs.start("alertmanager", [
            self.args.alertmanager, f"--config.file={am_config}",
            f"--storage.path={os.path.join(w, 'am-data')}",
            f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
            "--log.level=warn"])

        # Prometheus with a test copy of the shipped rules (shorter for / keep_firing_for only).
        rules_dir = os.path.join(w, "rules")
        rule_files = sorted(os.path.join(self.src, "deploy/prometheus/rules", f)
                            for f in os.listdir(os.path.join(self.src, "deploy/prometheus/rules"))
                            if f.endswith(".yml"))
        subprocess.run([sys.executable, os.path.join(self.src, "tests/e2e/shorten_rules.py"),
                        "--divisor", f"{self.divisor:g}", "-o", rules_dir] + rule_files, check=True)
        prom_config = os.path.join(w, "prometheus.yml")
        with open(prom_config, "w") as f:
            f.write(f"""# Generated by tests/e2e/alerting_e2e.py
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
{''.join(f'  - {rules_dir}/{os.path.basename(p)}{chr(10)}' for p in rule_files)}alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{am_port}"]
scrape_configs:
  - job_name: llm_probe_exporter
    static_configs:
      - targets: ["127.0.0.1:{exporter_port}"]
""")
        subprocess.run(["promtool", "check", "config", prom_config], check=True, stdout=subprocess.DEVNULL)
        prom_port = free_port()
        self.prom = f"http://127.0.0.1:{prom_port}"
        self.procs.start("prometheus", [
            self.args.prometheus, f"--config.file={prom_config}",
            f"--storage.tsdb.path={os.path.join(w, 'prom-data')}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--rules.alert.resend-delay=1s", "--log.level=warn"])

        for name, url in (("exporter", f"{self.exporter}/-/ready"), ("alertmanager", f"{self.am}/-/ready"),
                          ("prometheus", f"{self.prom}/-/ready")):
            self.wait_for(f"{name} ready ({url})", lambda u=url: self.ready(u), 30)
        self.wait_for("Prometheus to discover the Alertmanager",
                      lambda: json.loads(http("GET", f"{self.prom}/api/v1/alertmanagers")[1])
                      ["data"]["activeAlertmanagers"], 30)
        self.wait_for("Prometheus to scrape the exporter (up == 1)",
                      lambda: self.query('up{job="llm_probe_exporter"} == 1'), 30)
        self.wait_for("all 3 probes healthy in Prometheus",
                      lambda: len(self.query("llm_probe_healthy == 1")) == 3, 30)
        self.wait_for("the group member series",
                      lambda: len(self.query('llm_probe_group_member{group="chat"}')) == 2, 10)
        log(f"set-up done in {time.time() - self.t_start:.1f}s")

    @staticmethod
    def ready(url):
        try:
            return http("GET", url, timeout=2)[0] == 200
        except OSError:
            return False

    # -- the script -----------------------------------------------------------------------------
    def run(self):
        self.setup()
        primary_down = {"alertname": "LLMProbeDown", "target": "primary", "severity": "warning"}
        backup_down = {"alertname": "LLMProbeDown", "target": "backup"}
        degraded = {"alertname": "LLMProbeFailoverGroupDegraded", "group": "chat"}
        group_down = {"alertname": "LLMProbeFailoverGroupDown", "group": "chat", "severity": "critical"}
        auth = {"alertname": "LLMProbeAuthFailure", "target": "primary", "probe": "chat",
                "severity": "critical"}
        solo_auth = {"alertname": "LLMProbeAuthFailure", "target": "solo", "probe": "models",
                     "severity": "critical"}

        # 1. All healthy: nothing may arrive, nothing may be pending or firing. The quiet window
        # is longer than the shortened `for` of LLMProbeDown plus Alertmanager's group_wait.
        # Rules evaluated before the first scrape see no series at all (LLMProbeExporterAbsent goes
        # pending for an evaluation or two): let that settle first.
        self.wait_for("no alert pending or firing once the exporter is scraped",
                      lambda: not self.query(f'ALERTS{{alertname!="{WATCHDOG}"}}'), 20)
        heartbeat = self.expect(1, self.t_start, {"alertname": WATCHDOG}, receiver="watchdog", timeout=30)
        log(f"OK step 1: the Watchdog reached its own receiver {heartbeat['arrived'] - self.t_start:.1f}s "
            "after the start")
        quiet = self.for_s + 5
        log(f"step 1: all healthy; watching for {quiet:.0f}s that no alert is pending or notified")
        deadline = time.time() + quiet
        while time.time() < deadline:
            self.procs.check_alive()
            alerts = [s["metric"] for s in self.query(f'ALERTS{{alertname!="{WATCHDOG}"}}')]
            if alerts or [e for e in self.sink.events() if e["labels"].get("alertname") != WATCHDOG]:
                raise E2EFailure("step 1: an alert while every upstream is healthy:\n" + self.state())
            time.sleep(0.5)
        log("OK step 1: no alert pending, firing or notified")

        # 2. One member of the group fails: warnings only (the group still has a healthy backup).
        log("step 2: primary answers 503")
        t2 = time.time()
        self.steps.append((2, t2, "primary answers 503"))
        self.set_scenario("primary", {"status": 503, "body": "html"})
        self.expect(2, t2, primary_down, receiver="ticket")
        self.expect(2, t2, degraded, receiver="ticket")
        pages = [e for e in self.sink.events() if e["receiver"] == "pager"
                 and e["labels"].get("alertname") not in ALLOWED_UNSCRIPTED]
        if pages:
            raise E2EFailure("step 2: a page while the group still had a healthy target:\n" + self.state())

        # 3. The backup fails too: the group alert pages and inhibits the members' LLMProbeDown.
        log("step 3: backup answers 503 too")
        t3 = time.time()
        self.steps.append((3, t3, "backup answers 503 too"))
        self.set_scenario("backup", {"status": 503, "body": "html"})
        gd = self.expect(3, t3, group_down, receiver="pager")
        self.wait_for("LLMProbeDown{target=backup} firing in Prometheus (to be inhibited)",
                      lambda: self.query('ALERTS{alertname="LLMProbeDown",target="backup",alertstate="firing"}'),
                      self.for_s + 20)
        # Let Alertmanager run a group_wait and a group_interval over it (1s + 5s) and then some.
        time.sleep(8)

        def inhibited():
            found = {}
            for alert in self.am_alerts(alertname="LLMProbeDown"):
                found[alert["labels"].get("target")] = alert["status"]
            return all(t in found and found[t]["state"] == "suppressed" and found[t].get("inhibitedBy")
                       for t in ("primary", "backup")) and found
        found = self.wait_for("Alertmanager to show LLMProbeDown of primary and backup as inhibited",
                              inhibited, 10)
        log("OK step 3: Alertmanager inhibits LLMProbeDown of "
            + ", ".join(f"{t} (by {len(s['inhibitedBy'])} alert(s))" for t, s in sorted(found.items())))
        leaked = [e for e in self.sink.events() if matches(e["labels"], backup_down)]
        if leaked:
            raise E2EFailure("step 3: LLMProbeDown of backup reached the sink although the group alert "
                             f"should inhibit it (group alert arrived at +{gd['arrived'] - t3:.1f}s):\n"
                             + self.state())
        log("OK step 3: no LLMProbeDown notification for backup reached the sink")

        # 4. Primary's key is rotated upstream: 401 -> AUTH_ERROR pages at once, with its runbook.
        log("step 4: primary answers 401 invalid_api_key")
        t4 = time.time()
        self.steps.append((4, t4, "primary answers 401"))
        self.set_scenario("primary", {"status": 401, "error_code": "invalid_api_key",
                                      "error_message": "Incorrect API key provided."})
        event = self.expect(4, t4, auth, receiver="pager", timeout=30)
        runbook = event["annotations"].get("runbook_url", "")
        if not runbook.endswith("docs/runbook.md#llmprobeauthfailure"):
            raise E2EFailure(f"step 4: LLMProbeAuthFailure has runbook_url {runbook!r}")
        with open(os.path.join(self.src, "docs/runbook.md")) as f:
            if not re.search(r"^## LLMProbeAuthFailure\s*$", f.read(), re.M):
                raise E2EFailure("step 4: docs/runbook.md has no '## LLMProbeAuthFailure' section")
        for key in ("summary", "description"):
            if not event["annotations"].get(key):
                raise E2EFailure(f"step 4: LLMProbeAuthFailure has no {key} annotation")
        log(f"OK step 4: runbook_url {runbook} (section present in docs/runbook.md)")

        # 5. Everything recovers: every alert that was notified firing must be notified resolved.
        log("step 5: primary and backup recover")
        t5 = time.time()
        self.steps.append((5, t5, "primary and backup recover"))
        self.set_scenario("primary", {})
        self.set_scenario("backup", {})
        # Bounded by keep_firing_for: the rules may give it to any of these alerts.
        self.expect(5, t5, auth, status="resolved", receiver="pager", timeout=self.keep_firing_s + 45)
        self.expect(5, t5, group_down, status="resolved", receiver="pager", timeout=self.group_keep_firing_s + 45)
        self.expect(5, t5, primary_down, status="resolved", receiver="ticket",
                    timeout=self.keep_firing_s + 45)

        # 6. A target without backup: its key is rejected, then fixed. LLMProbeAuthFailure pages;
        # after the fix it resolves, and LLMProbeDown of solo never pages — neither while the
        # cause alert fires nor after it resolves (the symptom must not outlive its inhibitor).
        log("step 6: solo answers 401 invalid_api_key")
        t6 = time.time()
        self.steps.append((6, t6, "solo answers 401"))
        self.set_scenario("solo", {"status": 401, "error_code": "invalid_api_key",
                                   "error_message": "Incorrect API key provided."})
        self.expect(6, t6, solo_auth, receiver="pager", timeout=30)
        # Long enough for LLMProbeDown's shortened `for` to have passed under the old rules.
        time.sleep(self.for_s + 5)
        log("step 6: the key is fixed (solo answers again)")
        t6_fix = time.time()
        self.steps.append((6, t6_fix, "solo's key fixed"))
        self.set_scenario("solo", {})
        self.expect(6, t6_fix, solo_auth, status="resolved", receiver="pager", timeout=self.keep_firing_s + 45)
        # Alertmanager group_wait (1s) and a resend: a late LLMProbeDown page would be here by now.
        time.sleep(8)
        solo_down = [e for e in self.sink.events()
                     if matches(e["labels"], {"alertname": "LLMProbeDown", "target": "solo"})]
        if solo_down:
            raise E2EFailure(f"step 6: LLMProbeDown{{target=solo}} was notified ({solo_down[0]['receiver']}, "
                             f"{solo_down[0]['arrived'] - t6_fix:+.1f}s from the fix): a fixed key produced a page")
        log("OK step 6: after the key fix, LLMProbeAuthFailure resolved and no LLMProbeDown page arrived")

        def all_resolved():
            last = {}
            for e in self.sink.events():
                key = tuple(sorted(e["labels"].items()))
                last[key] = e
            open_ = [e for e in last.values() if e["status"] == "firing"
                     and e["labels"].get("alertname") not in ALLOWED_UNSCRIPTED | {WATCHDOG}]
            return not open_
        self.wait_for("a resolved notification for every alert notified as firing (except "
                      + ", ".join(sorted(ALLOWED_UNSCRIPTED)) + ")", all_resolved, self.group_keep_firing_s + 45)
        allowed = [primary_down, degraded, group_down, auth, backup_down, solo_auth]
        bad = self.unexpected(allowed)
        if bad:
            raise E2EFailure("unexpected notifications:\n" + "\n".join(
                f"  {e['receiver']} {e['status']} {describe(e['labels'])}" for e in bad))
        # The group alert keeps firing longer than the members' LLMProbeDown (keep_firing_for 6m
        # against 5m), so the backup, inhibited while the group was down, is never notified.
        late_backup = [e for e in self.sink.events() if matches(e["labels"], backup_down) and e["status"] == "firing"]
        if late_backup:
            raise E2EFailure(f"LLMProbeDown{{target=backup}} was notified firing "
                             f"{late_backup[0]['arrived'] - t5:.1f}s after recovery: the group alert's "
                             "inhibition ended before the member's keep_firing_for")
        pages = [e for e in self.sink.events()
                 if e["labels"].get("alertname") in ALLOWED_UNSCRIPTED and e["receiver"] == "pager"]
        if pages:
            raise E2EFailure("LLMProbeErrorBudgetBurn paged for a failover-group member: "
                             + describe(pages[0]["labels"]))
        misrouted = [e for e in self.sink.events()
                     if e["labels"].get("alertname") == WATCHDOG and e["receiver"] != "watchdog"]
        if misrouted:
            raise E2EFailure(f"{WATCHDOG} reached receiver {misrouted[0]['receiver']}")
        burn = [e for e in self.sink.events() if e["labels"].get("alertname") in ALLOWED_UNSCRIPTED]
        if burn:
            self.notes.append(", ".join(sorted(ALLOWED_UNSCRIPTED)) + " opened a ticket during the run "
                              "(not scripted, allowed: a 100 % failing probe burns a 99.5 % budget far "
                              "above 3x within seconds of history; members of a group never page for it).")

    def rows(self):
        """One row per notification and alert name: the step it arrived in and the seconds since
        that step's fault injection."""
        rows = {}
        for e in self.sink.events():
            step = next(((n, t, what) for n, t, what in reversed(self.steps) if t <= e["arrived"]), None)
            if not step:
                step = (1, self.t_start, "none (all healthy)")
            row = rows.setdefault(e["key"], {
                "step": step[0], "fault": step[2], "seconds": e["arrived"] - step[1],
                "alert": e["labels"].get("alertname"), "severity": e["labels"].get("severity", ""),
                "receiver": e["receiver"], "status": e["status"], "targets": set(), "group": set(),
                "checked": e["key"] in self.checked})
            if "target" in e["labels"]:
                row["targets"].add(e["labels"]["target"] + ("/" + e["labels"]["probe"] if "probe" in e["labels"] else ""))
            if "group" in e["labels"]:
                row["group"].add(e["labels"]["group"])
        out = []
        for row in rows.values():
            labels = []
            if row["group"]:
                labels.append("group=" + ",".join(sorted(row["group"])))
            if row["targets"]:
                labels.append(", ".join(sorted(row["targets"])))
            row["labels"] = " ".join(labels)
            out.append(row)
        return out

    def report(self):
        header = ("step", "fault injected", "alert", "severity", "labels", "receiver", "notification",
                  "s after fault", "checked")
        table = [(str(r["step"]), r["fault"], r["alert"], r["severity"], r["labels"], r["receiver"],
                  r["status"], f"{r['seconds']:.1f}", "yes" if r["checked"] else "no") for r in self.rows()]
        widths = [max(len(x[i]) for x in [header] + table) for i in range(len(header))]
        print()
        print(f"E2E figures — every notification at the sink, seconds from the fault injection of its step "
              f"(for/keep_firing_for divided by {self.divisor:g}; probe, scrape and evaluation interval 1s; "
              "failure_threshold 2; Alertmanager group_wait 1s, group_interval 5s; "
              "checked = asserted by the script):")
        for i, r in enumerate([header] + table):
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if i == 0:
                print("  " + "  ".join("-" * w for w in widths))
        for note in self.notes:
            print(f"  note: {note}")
        if self.args.report:
            with open(self.args.report, "w") as f:
                f.write("| " + " | ".join(header) + " |\n")
                f.write("|" + "---|" * len(header) + "\n")
                for r in table:
                    f.write("| " + " | ".join(r) + " |\n")
                for note in self.notes:
                    f.write(f"\nNote: {note}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--mock", required=True)
    parser.add_argument("--source-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
    parser.add_argument("--prometheus", default="prometheus")
    parser.add_argument("--alertmanager", default="prometheus-alertmanager")
    parser.add_argument("--for-divisor", type=float, default=6.0,
                        help="divide the rules' for/keep_firing_for by this (default 6)")
    parser.add_argument("--report", help="write the figures as a Markdown table to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="llm-probe-e2e-")
    test = E2E(args, workdir)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    started = time.time()
    ok = False
    try:
        test.run()
        ok = True
    except E2EFailure as error:
        print(f"\nE2E FAILED: {error}", file=sys.stderr)
        test.procs.dump_logs()
    except KeyboardInterrupt as error:
        print(f"\nE2E interrupted ({error})", file=sys.stderr)
    finally:
        test.procs.stop_all()
        test.sink.stop()
        test.report()
        if args.keep or not ok:
            print(f"logs and data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"E2E {'PASSED' if ok else 'FAILED'} in {time.time() - started:.0f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
