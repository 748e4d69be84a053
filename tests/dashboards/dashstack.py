"""A throw-away monitoring stack for the dashboard tests and pictures: the mock upstream with
healthy, failing and streaming scenarios, the exporter probing it, and a real Prometheus that
scrapes the exporter every second and evaluates the shipped rules (deploy/prometheus/rules).
Everything listens on 127.0.0.1, lives in one temporary directory and is stopped by stop().

Standard library only. Used by query_test.py and render_pictures.py.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = sorted(glob.glob(os.path.join(ROOT, "deploy", "prometheus", "rules", "*.yml")))

# Behaviours of the mock upstream (tools/mock_upstream/mock_upstream.h): one scenario per target.
SCENARIOS = {
    "healthy": {"ratelimit_headers": True, "content": "OK, all systems nominal."},
    "slow": {"ratelimit_headers": True, "delay_ms": 300},
    "flaky": [
        {"ratelimit_headers": True}, {"ratelimit_headers": True}, {"ratelimit_headers": True},
        {"status": 429, "error_type": "requests", "error_code": "rate_limit_exceeded",
         "error_message": "Rate limit reached for requests.", "headers": {"Retry-After": "1"},
         "ratelimit_headers": True},
    ],
    "unauthorized": {"status": 401, "error_code": "invalid_api_key",
                     "error_message": "Incorrect API key provided."},
    "down": {"status": 503, "body": "html"},
    "swapped": {"ratelimit_headers": True, "served_model": "gpt-4o-mini"},
    "streaming": {"ratelimit_headers": True,
                  "content": "Streaming tokens arrive one by one, as a real model would send them.",
                  "stream": {"first_token_delay_ms": 120, "token_count": 12, "token_interval_ms": 10}},
}

# The exporter's config: two failover groups (one healthy-ish, one all down), a models probe with
# expect_models, chat, stream and embeddings probes, pricing and a budget.
CONFIG = """\
global:
  interval: 2s
  timeout: 1s
  jitter: 10%
  failure_threshold: 2
  recovery_threshold: 1
  history_size: 50
  external_labels: {{environment: dashboard-test}}

groups:
  - name: chat-primary
    targets: [primary, backup, flaky]
  - name: chat-fallback
    targets: [keyless, broken]

targets:
  - name: primary
    base_url: {mock}/s/healthy/v1
    budget: {{max_usd_per_day: 5.00}}
    probes:
      - name: models
        type: models
        expect_models: [gpt-4o, text-embedding-3-small]
      - name: chat
        type: chat
        model: gpt-4o
        expect_content: ".+"
      - name: embed
        type: embeddings
        model: text-embedding-3-small
  - name: backup
    base_url: {mock}/s/slow/v1
    probes:
      - {{name: chat, type: chat, model: gpt-4o}}
  - name: flaky
    base_url: {mock}/s/flaky/v1
    probes:
      - {{name: chat, type: chat, model: gpt-4o-mini}}
  - name: keyless
    base_url: {mock}/s/unauthorized/v1
    probes:
      - {{name: chat, type: chat, model: gpt-4o}}
  - name: broken
    base_url: {mock}/s/down/v1
    probes:
      - {{name: chat, type: chat, model: gpt-4o}}
  - name: swapped
    base_url: {mock}/s/swapped/v1
    probes:
      - {{name: chat, type: chat, model: gpt-4o}}
  - name: streamer
    base_url: {mock}/s/streaming/v1
    probes:
      - {{name: stream, type: stream, model: gpt-4o}}

pricing:
  gpt-4o:                 {{input: 2.50, output: 10.00}}
  gpt-4o-mini:            {{input: 0.15, output: 0.60}}
  text-embedding-3-small: {{input: 0.02, output: 0.00}}
"""

PROMETHEUS = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: {rules}
scrape_configs:
  - job_name: llm_probe_exporter
    static_configs:
      - targets: ["{exporter}"]
        # As a global view (federation, Thanos, Mimir) sees them: the dashboards' $region and
        # $cluster variables and legends need these labels to have values.
        labels: {{region: test-region, cluster: test-cluster}}
"""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read().decode()


class Stack:
    def __init__(self, exporter, mock_upstream, keep=False):
        for path, what in ((exporter, "exporter"), (mock_upstream, "mock_upstream")):
            if not path or not os.access(path, os.X_OK):
                raise RuntimeError(f"{what} binary not found or not executable: {path!r}")
        if not shutil.which("prometheus"):
            raise RuntimeError("'prometheus' not found: install the Debian package prometheus")
        if not RULES:
            raise RuntimeError("no rule files in deploy/prometheus/rules")
        self.exporter_bin, self.mock_bin = os.path.abspath(exporter), os.path.abspath(mock_upstream)
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="llm-probe-dash-")
        self.procs = []
        self.mock_url = self.exporter_addr = self.prom_url = None

    # -- processes ------------------------------------------------------------------------------
    def _spawn(self, name, args):
        out = open(os.path.join(self.dir, f"{name}.log"), "w")
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=self.dir)
        self.procs.append((name, proc))
        return proc

    def _wait_log(self, name, proc, pattern, timeout=15):
        deadline = time.monotonic() + timeout
        path = os.path.join(self.dir, f"{name}.log")
        while time.monotonic() < deadline:
            with open(path) as f:
                m = re.search(pattern, f.read())
            if m:
                return m
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not start:\n{self.tail(name)}")

    def tail(self, name, lines=30):
        try:
            with open(os.path.join(self.dir, f"{name}.log")) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def _wait_http(self, url, what, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if http("GET", url, timeout=2)[0] == 200:
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{what} not ready at {url}")

    def start(self):
        scenarios = os.path.join(self.dir, "scenarios.json")
        with open(scenarios, "w") as f:
            json.dump(SCENARIOS, f, indent=2)
        mock = self._spawn("mock_upstream", [self.mock_bin, "--listen", "127.0.0.1:0", "--scenarios", scenarios])
        port = self._wait_log("mock_upstream", mock, r"listening on port (\d+)").group(1)
        self.mock_url = f"http://127.0.0.1:{port}"
        log(f"mock upstream on {self.mock_url}")

        config = os.path.join(self.dir, "exporter.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(mock=self.mock_url))
        exporter = self._spawn("exporter", [self.exporter_bin, "--config.file", config,
                                            "--web.listen-address", "127.0.0.1:0"])
        self.exporter_addr = self._wait_log("exporter", exporter, r"msg=listening address=(\S+)").group(1)
        self._wait_http(f"http://{self.exporter_addr}/-/ready", "exporter")
        log(f"exporter on {self.exporter_addr}")

        prom_cfg = os.path.join(self.dir, "prometheus.yml")
        with open(prom_cfg, "w") as f:
            f.write(PROMETHEUS.format(rules=json.dumps(RULES), exporter=self.exporter_addr))
        check = subprocess.run(["promtool", "check", "config", prom_cfg], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"promtool check config failed:\n{check.stdout}{check.stderr}")
        for attempt in range(3):  # the port may be taken between free_port() and the bind
            port = free_port()
            prom = self._spawn(f"prometheus-{attempt}", [
                "prometheus", f"--config.file={prom_cfg}",
                f"--storage.tsdb.path={os.path.join(self.dir, f'tsdb-{attempt}')}",
                f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                "--storage.tsdb.retention.time=1d"])
            self.prom_url = f"http://127.0.0.1:{port}"
            try:
                self._wait_http(f"{self.prom_url}/-/ready", "prometheus", timeout=20)
                break
            except RuntimeError:
                prom.terminate()
                prom.wait(10)
                if attempt == 2:
                    raise RuntimeError(f"prometheus did not start:\n{self.tail(f'prometheus-{attempt}')}")
        log(f"prometheus on {self.prom_url} (rules: {', '.join(os.path.relpath(r, ROOT) for r in RULES)})")
        return self

    def set_scenario(self, name, behaviour):
        http("PUT", f"{self.mock_url}/_mock/scenarios/{name}", behaviour)

    def stop(self):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def install_signal_handlers():
    """Turns SIGTERM/SIGINT (ctest timeout, Ctrl-C) into an exception, so `with Stack()` stops
    every process it started."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


# -- Prometheus HTTP API --------------------------------------------------------------------------
class PromError(Exception):
    pass


def prom_get(base, path, params):
    url = f"{base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            body = json.loads(resp.read().decode())
    except urllib.error.HTTPError as e:
        try:
            body = json.loads(e.read().decode())
        except ValueError:
            raise PromError(f"HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        raise PromError(f"cannot reach Prometheus: {e}") from None
    if body.get("status") != "success":
        raise PromError(f"{body.get('errorType')}: {body.get('error')}")
    return body["data"]


def instant(base, query, at=None):
    params = {"query": query}
    if at is not None:
        params["time"] = at
    data = prom_get(base, "/api/v1/query", params)
    if data["resultType"] in ("scalar", "string"):
        return [{"metric": {}, "value": data["result"]}]
    return data["result"]


def query_range(base, query, start, end, step):
    return prom_get(base, "/api/v1/query_range",
                    {"query": query, "start": start, "end": end, "step": step})["result"]


if __name__ == "__main__":
    # Manual use: start the stack and keep it up until Ctrl-C, e.g. to try queries by hand.
    install_signal_handlers()
    with Stack(sys.argv[1], sys.argv[2], keep="--keep" in sys.argv) as stack:
        log(f"up; Prometheus at {stack.prom_url}. Ctrl-C stops.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
