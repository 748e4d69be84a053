#!/usr/bin/env python3
"""Every command README.md and docs/ tell a user to type, run as written.

Commands are taken from fenced shell blocks (sh, bash, shell, console; in an untagged block,
lines starting with "$ " or with a command), and from inline code spans that start with a
command. Each one must be listed in COMMANDS below, either to run here or as not runnable here
with the reason; a command that is in neither list fails the test, and so does a listed command
that the docs no longer contain.

The commands run in their own network namespace, so "localhost:9835" is the exporter this test
starts from the demo config (deploy/demo/config.yaml) with the mock upstream on 127.0.0.1:9836,
exactly as scripts/demo.sh starts them (with the mock's demo credentials of
deploy/demo/mock-credentials.env exported), without taking those ports on the machine. The working
directory holds the source tree and the build (as build/), the demo config as config.yaml and
my.yaml, a TLS web config as web.yml, and llm_probe_exporter is on PATH; the commands' environment
has the demo credentials, as the shell of a user who exported their keys. curl fails on an HTTP
error (a ~/.curlrc with --fail), as a user would notice one. Placeholders a user fills in
(<pid>, <exporter>, <target> ...) are filled in with the live exporter's values.

Before the commands, the demo itself is checked as the quick start promises it: every probe of
the demo config (Gemini-native, SigV4-signed Bedrock and Responses API targets included) comes UP
against the mock, and the demo credentials appear nowhere the exporter shows (/metrics, the API,
the status page, /probe's debug output, its log).

Needs root (a network namespace), like scripts/install-deps.sh.
"""
import argparse
import fcntl
import glob
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# A first word that makes a code span or a line a command.
COMMAND_WORDS = {"curl", "kill", "llm_probe_exporter", "python3", "promtool", "amtool", "docker", "kubectl",
                 "jsonnet", "cmake", "ctest", "jq", "sudo", "apt-get", "git", "wrk", "systemctl", "htpasswd",
                 "openssl", "CC=clang"}
COMMAND_PATHS = ("build/", "scripts/", "tests/", "bench/", "deploy/", "build-fuzz/")

RUN = "run"      # exit status 0
SERVE = "serve"  # an exporter in the foreground: ready on :9835, then SIGTERM, exit status 0

# Every command in the docs, with what this test does with it.
COMMANDS = {
    # README.md
    "scripts/demo.sh": "skip: the quick start itself, which runs until Ctrl-C; this test starts its two "
                       "processes the same way, and tests/deploy/install_deps_test.sh covers its installer",
    "scripts/test.sh": "skip: CI's own command (.ci/run), which runs this test",
    "build/src/llm_probe_exporter --config.check --config.file my.yaml": RUN,
    "build/src/llm_probe_exporter --config.file my.yaml": SERVE,
    "curl localhost:9835/metrics": RUN,
    "kill -HUP <pid>": RUN,
    "curl -X POST localhost:9835/-/reload": RUN,
    "llm_probe_exporter --web.health-check --web.listen-address=:9835": RUN,
    "promtool test rules": "skip: names the tool; tests/deploy/check_deploy.sh runs it on the shipped rules",
    "docker compose": "skip: names the tool; no Docker daemon in CI (tests/e2e/check_compose.py checks the file)",
    "bench/run --smoke": "skip: the benchmark stage, minutes of load on both cores",
    "STAGES=normal scripts/test.sh": "skip: CI's command with one stage; it runs this test",
    # docs/alerting.md
    "python3 tests/e2e/alerting_e2e.py --exporter build/src/llm_probe_exporter "
    "--mock build/tools/mock_upstream/mock_upstream [--report figures.md] [--keep]":
        "skip: shows optional flags in brackets; ctest runs it as e2e_alerting",
    "promtool check rules rules/*.yml": "skip: relative to deploy/prometheus; tests/deploy/check_deploy.sh runs it",
    "kubectl apply -k deploy/kubernetes/overlays/prometheus-operator": "skip: needs a Kubernetes cluster",
    "amtool check-config": "skip: names the tool; tests/deploy/check_deploy.sh runs it on the shipped config",
    "deploy/alertmanager/make-e2e-config.py --webhook-base <sink>": "skip: needs a webhook sink; e2e_alerting runs it",
    "ctest -R e2e_alerting": "skip: a test of this suite",
    "kubectl kustomize": "skip: names the tool; tests/e2e/check_kubernetes.py runs it",
    # docs/api.md
    "curl -s 'http://localhost:9835/api/v1/targets?group=chat-primary' | jq -r '.healthy_members[0] // empty'": RUN,
    "curl -s -X POST 'http://localhost:9835/probe?target=relay-backup&probe=chat&debug=true' | jq .": RUN,
    # docs/benchmarks.md
    "wrk -t2 -c64": "skip: the load bench/run applies, not a whole command",
    "bench/run --only scrape": "skip: the benchmark stage",
    "bench/run --only cpu": "skip: the benchmark stage",
    "bench/run --only signing": "skip: the benchmark stage (bench_smoke runs its rows briefly)",
    "bench/run --only ttft": "skip: the benchmark stage (bench_smoke runs its rows briefly)",
    # docs/operations.md
    "llm_probe_exporter --config.file=/etc/llm-probe/config.yaml --web.config.file=/etc/llm-probe/web.yml "
    "--web.listen-address=:9835 --log.level=info --log.format=logfmt": SERVE,
    "llm_probe_exporter --config.check --config.file=config.yaml --web.config.file=web.yml": RUN,
    "curl -X POST http://localhost:9835/-/reload": RUN,
    "curl -u user:password -X POST https://...": "skip: a pattern with the URL left out; "
                                                 "tests/integration/web_config_test.cpp runs it against TLS",
    "htpasswd -nBC 10 prometheus": "skip: asks for the password on the terminal",
    "python3 -c 'import bcrypt; print(bcrypt.hashpw(b\"PASSWORD\", bcrypt.gensalt(10)).decode())'":
        "skip: the alternative to htpasswd where python3-bcrypt is installed; CI installs htpasswd",
    "curl -s -X POST 'http://localhost:9835/probe?target=relay-main&probe=chat'": RUN,
    "curl -s -X POST 'http://localhost:9835/probe?target=relay-main&probe=models&debug=true'": RUN,
    "tests/browser/status_page.py --settle 40 --docs docs/status-page.png": "skip: rewrites a picture in the tree; "
                                                                           "ctest runs the browser test",
    # docs/reliability.md
    "STAGES=\"normal asan\" scripts/test.sh": "skip: CI's command with two stages; it runs this test",
    "wrk -t2 -c16 -d8s --latency /metrics": "skip: the load of a benchmark, with the URL shortened",
    "tests/fuzz/run.sh build-fuzz 180": "skip: the fuzz stage of scripts/test.sh",
    "CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DLLM_PROBE_FUZZ=ON": "skip: the fuzz stage of scripts/test.sh",
    "cmake --build build-fuzz --target fuzz_all": "skip: the fuzz stage of scripts/test.sh",
    "tests/fuzz/run.sh build-fuzz 20": "skip: the fuzz stage of scripts/test.sh",
    "FUZZ_WORK=$HOME/fuzz tests/fuzz/run.sh build-fuzz 3600 classify_fuzzer": "skip: an hour of fuzzing",
    "build-fuzz/tests/fuzz/classify_fuzzer -jobs=2 -workers=2 -max_total_time=3600 "
    "$HOME/fuzz/classify_fuzzer/corpus tests/fuzz/corpus/classify_fuzzer": "skip: an hour of fuzzing",
    "build-fuzz/tests/fuzz/<target> FILE": "skip: reproduces a crash file that a fuzz run left",
    "bench/soak/run.sh": "skip: an hour-long soak (the bench stage)",
    "DURATION=120 WARMUP=30 bench/soak/run.sh": "skip: the soak of the bench stage",
    # docs/benchmarks.md
    "bench/run --only tls": "skip: the benchmark's HTTPS rows, minutes of load on both cores (bench_smoke runs them briefly)",
    # docs/runbook.md
    "curl -s http://<exporter>:9835/api/v1/targets": RUN,
    "curl -s 'http://<exporter>:9835/api/v1/targets?group=<group>'": RUN,
    "curl -s -X POST 'http://<exporter>:9835/probe?target=<target>&probe=<probe>&debug=true'": RUN,
    "llm_probe_exporter --config.check --config.file=<file>": RUN,
    "curl -X POST http://<exporter>:9835/-/reload": RUN,
    "amtool silence add alertname=<alert> target=<target> --duration=2h --comment=\"<why>\"":
        "skip: needs a running Alertmanager with the alert",
    "systemctl status llm_probe_exporter": "skip: no systemd unit on a CI machine",
    "kubectl get pods": "skip: needs a Kubernetes cluster",
    "docker compose ps": "skip: no Docker daemon in CI",
    "curl -sv http://<instance>/metrics": RUN,
    # docs/runbook.md
    "curl -v": "skip: names the tool and its flag; the URL is the reader's base_url, from the exporter's host",
    "kubectl -n gateway edit configmap router": "skip: an example of a deployer's failover step; needs their cluster",
    "kubectl describe pod": "skip: needs a Kubernetes cluster",
    # docs/scaling.md
    "deploy/kubernetes/overlays/regions/generate.py": RUN,
    "kubectl --context eu-west apply -k deploy/kubernetes/overlays/regions/eu-west -n monitoring":
        "skip: needs a Kubernetes cluster",
    "kubectl --context us-east apply -k deploy/kubernetes/overlays/regions/us-east -n monitoring":
        "skip: needs a Kubernetes cluster",
    "llm_probe_exporter --config.file=config.yaml --shard.count=3 --shard.index=0": SERVE,
    "llm_probe_exporter --config.file=config.yaml --shard.count=3 --shard.index=1": SERVE,
    "llm_probe_exporter --config.file=config.yaml --shard.count=3 --shard.index=2": SERVE,
}


def is_command(text):
    words = text.split()
    if not words:
        return False
    first = words[0]
    return (first in COMMAND_WORDS or first.startswith(COMMAND_PATHS)
            or re.fullmatch(r"[A-Z_]+=\S*", first) is not None and len(words) > 1)


def logical_lines(block):
    """Lines with backslash continuations joined and comments dropped."""
    lines, pending = [], ""
    for raw in block.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = (pending + line.strip()).strip()
        pending = ""
        line = re.sub(r"\s+#\s.*$", "", line)
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def extract(markdown):
    """(line number, command) in the order of the text."""
    found = []
    fence = re.compile(r"^```([\w-]*)\n(.*?)^```", re.S | re.M)
    for match in fence.finditer(markdown):
        language, body = match.group(1), match.group(2)
        line_number = markdown.count("\n", 0, match.start()) + 2
        if language in ("sh", "bash", "shell"):
            found += [(line_number, line) for line in logical_lines(body)]
        elif language in ("console", ""):
            for line in logical_lines(body):
                if line.startswith("$ "):
                    found.append((line_number, line[2:]))
                elif language == "" and line.split()[0] in COMMAND_WORDS:  # not a tree of paths
                    found.append((line_number, line))
    prose = fence.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)
    for match in re.finditer(r"`([^`\n]+)`", prose):
        span = match.group(1).strip()
        if " " in span and is_command(span):
            found.append((prose.count("\n", 0, match.start()) + 1, span))
    return found


def documented_commands():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))
    commands = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            for line_number, command in extract(f.read()):
                commands.setdefault(command, f"{os.path.relpath(path, ROOT)}:{line_number}")
    return commands


class Stack:
    """The demo: mock upstream on 127.0.0.1:9836, the exporter on :9835 with the demo config."""

    def __init__(self, build, work, env):
        self.build, self.work, self.env, self.exporter = build, work, env, None
        self.mock = subprocess.Popen(
            [os.path.join(build, "tools/mock_upstream/mock_upstream"), "--listen", "127.0.0.1:9836",
             "--scenarios", os.path.join(ROOT, "tools/mock_upstream/demo_scenarios.json")],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "mock.log"), "w"))

    def start_exporter(self):
        self.exporter = subprocess.Popen(
            [os.path.join(self.build, "src/llm_probe_exporter"), "--config.file",
             os.path.join(ROOT, "deploy/demo/config.yaml")],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, "exporter.log"), "a"), cwd=self.work,
            env=self.env)
        if not wait_ready():
            raise RuntimeError("the demo exporter did not become ready:\n" + tail(os.path.join(self.work, "exporter.log")))
        # The documented probes and groups need a result or two before they answer usefully.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and b"relay-main" not in fetch("/api/v1/targets?group=chat-primary"):
            time.sleep(0.2)

    def stop_exporter(self):
        if self.exporter and self.exporter.poll() is None:
            self.exporter.send_signal(signal.SIGTERM)
            self.exporter.wait(20)

    def stop(self):
        self.stop_exporter()
        self.mock.terminate()
        self.mock.wait(10)


def demo_credentials():
    """NAME=value lines of deploy/demo/mock-credentials.env, which scripts/demo.sh exports."""
    credentials = {}
    with open(os.path.join(ROOT, "deploy/demo/mock-credentials.env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, value = line.split("=", 1)
                credentials[name] = value
    return credentials


def check_demo(work, credentials):
    """Failures of the quick start's promise: every probe UP, no demo credential shown."""
    failures = []
    deadline, document = time.monotonic() + 60, {}
    while time.monotonic() < deadline:
        document = json.loads(fetch("/api/v1/targets") or b"{}")
        never_up = [f"{p['target']}/{p['probe']}" for p in document.get("probes", [])
                    if not any(entry["status"] == "UP" for entry in p["history"])]
        if document.get("probes") and not never_up:
            break
        time.sleep(0.5)
    else:
        failures.append("demo probes never UP within 60 s: " + ", ".join(never_up) + "\n" +
                        json.dumps([p["last_result"] for p in document.get("probes", [])
                                    if f"{p['target']}/{p['probe']}" in never_up])[:3000])
    secrets = [value for name, value in credentials.items() if "ACCESS_KEY_ID" not in name]
    shown = {"/metrics": fetch("/metrics"), "/api/v1/targets": fetch("/api/v1/targets"), "/": fetch("/")}
    for target in ("gemini-native", "bedrock"):
        path = f"/probe?target={target}&probe=chat&debug=true"
        shown[path] = fetch(path, method="POST")
        if b'"UP"' not in shown[path]:
            failures.append(f"POST {path} did not run UP: {shown[path][:2000]!r}")
    shown["exporter log"] = open(os.path.join(work, "exporter.log"), "rb").read()
    for where, text in shown.items():
        for secret in secrets:
            if secret.encode() in text:
                failures.append(f"a demo credential ({secret[:4]}...) is shown in {where}")
    return failures


def fetch(path, method="GET"):
    try:
        request = urllib.request.Request(f"http://127.0.0.1:9835{path}", method=method)
        with urllib.request.urlopen(request, timeout=10 if method == "POST" else 2) as reply:
            return reply.read()
    except OSError:
        return b""


def wait_ready(limit=20):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if fetch("/-/ready").startswith(b"Ready"):
            return True
        time.sleep(0.1)
    return False


def tail(path, lines=20):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def bring_loopback_up():
    """`ip link set lo up` without iproute2: SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(s, 0x8913, request))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sh14x", b"lo", flags | 0x1))


def prepare(work, build):
    for entry in os.listdir(ROOT):
        if entry == "deploy":  # a copy: the region generator of docs/scaling.md writes there
            shutil.copytree(os.path.join(ROOT, entry), os.path.join(work, entry), symlinks=True)
        elif entry not in ("build", ".git"):
            os.symlink(os.path.join(ROOT, entry), os.path.join(work, entry))
    os.symlink(build, os.path.join(work, "build"))
    for name in ("config.yaml", "my.yaml"):
        shutil.copy(os.path.join(ROOT, "deploy/demo/config.yaml"), os.path.join(work, name))
    # A TLS web config as docs/operations.md shows it, with a self-signed certificate.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", os.path.join(work, "server.key"), "-out", os.path.join(work, "server.crt")],
                   check=True, capture_output=True)
    hashed = subprocess.run(["htpasswd", "-nbBC", "4", "prometheus", "docs-test"], check=True, capture_output=True,
                            text=True).stdout.strip().split(":", 1)[1]
    with open(os.path.join(work, "web.yml"), "w") as f:
        f.write(f"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                f"basic_auth_users:\n  prometheus: {hashed}\n")
    with open(os.path.join(work, ".curlrc"), "w") as f:
        f.write("fail\nsilent\nshow-error\nmax-time = 30\n")


def fill_in(command, stack, work):
    # <target>: a probe no other command runs on demand (the 10 s limit of /probe) and whose
    # upstream sends no Retry-After (relay-flaky's 429s make /probe refuse while it waits one out).
    values = {"<pid>": str(stack.exporter.pid), "<exporter>": "localhost", "<instance>": "localhost:9835",
              "<group>": "chat-primary", "<target>": "openai-responses", "<probe>": "chat", "<file>": "config.yaml",
              "/etc/llm-probe/": work + "/"}
    for placeholder, value in values.items():
        command = command.replace(placeholder, value)
    return command


def run(command, spec, stack, work, env):
    filled = fill_in(command, stack, work)
    if spec == RUN:
        result = subprocess.run(["bash", "-o", "pipefail", "-c", filled], cwd=work, env=env, capture_output=True,
                                text=True, timeout=120)
        return result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-1500:]}{result.stderr[-1500:]}"
    stack.stop_exporter()
    log = os.path.join(work, "serve.log")
    process = subprocess.Popen(["bash", "-c", "exec " + filled], cwd=work, env=env, stdout=subprocess.DEVNULL,
                               stderr=open(log, "w"))
    try:
        # A TLS listener answers no plain request: the exporter's own health check knows both.
        deadline, ready = time.monotonic() + 20, False
        while time.monotonic() < deadline and process.poll() is None and not ready:
            ready = b"Ready" in fetch("/-/ready") or "msg=listening" in tail(log)
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        status = process.wait(20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stack.start_exporter()
    return ready and status == 0, f"ready={ready} exit {status}\n{tail(log)}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--in-namespace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    documented = documented_commands()
    unlisted = [f"{where}: {command}" for command, where in documented.items() if command not in COMMANDS]
    stale = [command for command in COMMANDS if command not in documented]
    failures = []
    if unlisted:
        failures.append("commands in the docs that this test neither runs nor lists as not runnable "
                        "(add them to COMMANDS in tests/e2e/docs_commands.py):\n  " + "\n  ".join(unlisted))
    if stale:
        failures.append("listed commands the docs no longer contain:\n  " + "\n  ".join(stale))
    if failures:
        print("FAIL: " + "\n\nFAIL: ".join(failures))
        return 1

    if not args.in_namespace:
        if os.geteuid() != 0:
            print("FAIL: needs root for a network namespace of its own (as in CI)")
            return 1
        return subprocess.call(["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                                "--build-dir", args.build_dir, "--in-namespace"])

    bring_loopback_up()
    build = os.path.abspath(args.build_dir)
    work = tempfile.mkdtemp(prefix="llm-probe-docs-")
    credentials = demo_credentials()
    env = dict(os.environ, HOME=work, PATH=os.path.join(build, "src") + os.pathsep + os.environ["PATH"],
               **credentials)
    prepare(work, build)
    stack = Stack(build, work, env)
    try:
        stack.start_exporter()
        demo_failures = check_demo(work, credentials)
        print("FAIL: the demo" if demo_failures else "ok: the demo: every probe UP, no demo credential shown")
        failures += demo_failures
        ran = skipped = 0
        for command, where in documented.items():
            spec = COMMANDS[command]
            if spec.startswith("skip:"):
                skipped += 1
                print(f"not runnable here: {where}: {command}\n    ({spec[5:].strip()})")
                continue
            ok, output = run(command, spec, stack, work, env)
            ran += 1
            print(f"{'ok' if ok else 'FAIL'}: {where}: {command}")
            if not ok:
                failures.append(f"{where}: {command}\n{output}")
        print(f"\n{ran} commands run, {skipped} listed as not runnable here")
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print("\nFAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
