#!/usr/bin/env python3
"""The status page in a real browser (Debian's headless Chromium).

Starts the mock upstream and the exporter on a config of healthy, slow, rate-limited, failing,
Anthropic, streaming, Responses API, Gemini-native and SigV4-signed Bedrock targets, lets the
probes run, then has Chromium load the page:
  * the DOM Chromium built (--dump-dom) must show every probe of the config with its type,
    provider (and API, where its provider has two) and model, its state, and the failing probe's
    error, and hold no script;
  * a desktop (1280x900) and a phone (390x844) screenshot must be written and be PNG files.

ctest runs it as `status_page_browser`. The screenshot in docs/ is made with it too:
  tests/browser/status_page.py --settle 40 --docs docs/status-page.png
(binaries default to build/; look at the picture before committing it).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCENARIOS = {
    "healthy": {"content": "OK"},
    "slow": {"delay_ms": 400},
    "flaky": [{}, {}, {}, {}, {"status": 429, "error_type": "requests", "error_code": "rate_limit_exceeded",
                               "error_message": "Rate limit reached for requests. Please try again in 1s."}],
    "revoked": {"status": 401, "error_type": "invalid_request_error", "error_code": "invalid_api_key",
                "error_message": "Incorrect API key provided: sk-live-****************3f9a. You can find "
                                 "your API key at https://platform.openai.com/account/api-keys."},
    "anthropic": {"content": "OK"},
    "streaming": {"stream": {"first_token_delay_ms": 250, "token_count": 12, "token_interval_ms": 10}},
}

# The mock's well-known keys for its Gemini and Bedrock, as the demo exports them.
with open(os.path.join(ROOT, "deploy/demo/mock-credentials.env")) as _file:
    MOCK_CREDENTIALS = dict(line.strip().split("=", 1) for line in _file if line.strip() and not line.startswith("#"))

# (target, scenario, provider, probes); the base URL is /s/<scenario>/v1 unless the provider's differs.
BASE_PATHS = {"gemini": "/v1beta", "bedrock": ""}
TARGET_KEYS = {"gemini": "api_key_env: MOCK_GEMINI_API_KEY",
               "bedrock": "aws: {region: us-east-1, access_key_id_env: MOCK_AWS_ACCESS_KEY_ID, "
                          "secret_access_key_env: MOCK_AWS_SECRET_ACCESS_KEY}"}
TARGETS = [
    ("relay-main", "healthy", "openai", "[{name: models, type: models, expect_models: [gpt-4o]}, "
                                        "{name: chat, type: chat, model: gpt-4o}, "
                                        "{name: embed, type: embeddings, model: text-embedding-3-small}]"),
    ("relay-backup", "slow", "openai", "[{name: chat, type: chat, model: gpt-4o}]"),
    ("relay-flaky", "flaky", "openai", "[{name: chat, type: chat, model: gpt-4o-mini}]"),
    ("relay-eu", "revoked", "openai", "[{name: chat, type: chat, model: gpt-4o}]"),
    ("anthropic-direct", "anthropic", "anthropic", "[{name: chat, type: chat, model: claude-sonnet-4-5}]"),
    ("relay-stream", "streaming", "openai", "[{name: stream, type: stream, model: gpt-4o}]"),
    ("openai-responses", "healthy", "openai", "[{name: resp, type: chat, api: responses, model: gpt-4o, max_tokens: 16}]"),
    ("gemini-native", "healthy", "gemini", "[{name: chat, type: chat, model: gemini-2.5-flash, max_tokens: 16}]"),
    ("bedrock", "healthy", "bedrock",
     "[{name: chat, type: chat, model: \"anthropic.claude-3-5-haiku-20241022-v1:0\", max_tokens: 16}]"),
]

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def fail(message):
    print(f"status_page: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def config_yaml(mock_port):
    lines = ["global: {interval: 2s, timeout: 1500ms, jitter: 10%, failure_threshold: 2}",
             "groups: [{name: chat-primary, targets: [relay-main, relay-backup, relay-flaky, relay-eu]}]",
             "targets:"]
    for name, scenario, provider, probes in TARGETS:
        lines += [f"  - name: {name}", f"    provider: {provider}",
                  f"    base_url: http://127.0.0.1:{mock_port}/s/{scenario}{BASE_PATHS.get(provider, '/v1')}",
                  f"    probes: {probes}"]
        if provider in TARGET_KEYS:
            lines.append(f"    {TARGET_KEYS[provider]}")
    lines += ["pricing:", "  gpt-4o: {input: 2.50, output: 10.00}", "  gpt-4o-mini: {input: 0.15, output: 0.60}",
              "  claude-sonnet-4-5: {input: 3.00, output: 15.00}", "  text-embedding-3-small: {input: 0.02, output: 0}"]
    return "\n".join(lines) + "\n"


def wait_for_line(path, pattern, process, limit=20):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8", errors="replace") as log:
            match = re.search(pattern, log.read())
        if match:
            return match
        if process.poll() is not None:
            break
        time.sleep(0.05)
    with open(path, encoding="utf-8", errors="replace") as log:
        fail(f"no line matching {pattern!r} in {path}:\n{log.read()}")


def start(command, log_path, env=None):
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(log_path, "w"), env=env)


def targets_document(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=10) as reply:
        return json.load(reply)


def chromium(binary, work, args, url):
    profile = tempfile.mkdtemp(dir=work)
    result = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        fail(f"chromium {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result.stdout


def check_png(path):
    if not os.path.exists(path) or os.path.getsize(path) < 1000:
        fail(f"screenshot {path} missing or empty")
    with open(path, "rb") as png:
        if png.read(8) != b"\x89PNG\r\n\x1a\n":
            fail(f"{path} is not a PNG file")


def check_dom(dom, document):
    if "<script" in dom.lower():
        fail("the page holds a script")
    if not re.search(r"\d+ of \d+ probes healthy", dom):
        fail("no health summary on the page")
    for probe in document["probes"]:
        row = f"<b>{probe['target']}</b> / {probe['probe']}"
        if row not in dom:
            fail(f"probe {probe['target']}/{probe['probe']} not on the page")
        # "chat · openai/responses · gpt-4o": the API only where the provider has two.
        api = f"/{probe['api']}" if probe["api"] else ""
        named = f"{row}<div class=\"sub\">{probe['type']} · {probe['provider']}{api}"
        if probe["model"]:
            named += f" · {probe['model']}"
        if named + "</div>" not in dom:
            fail(f"probe {probe['target']}/{probe['probe']} is not named {named!r} on the page")
    apis = {(p["target"], p["provider"], p["api"]) for p in document["probes"]}
    for expected in (("openai-responses", "openai", "responses"), ("relay-main", "openai", "chat_completions"),
                     ("gemini-native", "gemini", None), ("bedrock", "bedrock", None)):
        if expected not in apis:
            fail(f"the API document does not say {expected}: {sorted(apis, key=str)}")
    for name in ("openai-responses", "gemini-native", "bedrock"):
        if not any(p["target"] == name and p["last_result"]["status"] == "UP" for p in document["probes"]):
            fail(f"{name} is not UP: {[p['last_result'] for p in document['probes'] if p['target'] == name]}")
    if "unhealthy" not in dom or "AUTH_ERROR" not in dom or "Incorrect API key provided" not in dom:
        fail("the failing probe's state, class and error are not on the page")
    if "Recent failures" not in dom:
        fail("no recent failures section")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exporter", default=os.path.join(ROOT, "build/src/llm_probe_exporter"))
    parser.add_argument("--mock", default=os.path.join(ROOT, "build/tools/mock_upstream/mock_upstream"))
    parser.add_argument("--out", help="directory for the page's DOM and both screenshots")
    parser.add_argument("--docs", help="write only the desktop screenshot, to this file")
    parser.add_argument("--settle", type=float, default=5, help="seconds of probing before the pictures")
    args = parser.parse_args()
    if not args.out and not args.docs:
        parser.error("give --out or --docs")
    browser = shutil.which("chromium")
    if not browser:
        fail("chromium not found: install the Debian package chromium (scripts/install-deps.sh --test)")

    work = tempfile.mkdtemp(prefix="llm-probe-browser-")
    processes = []
    try:
        scenarios = os.path.join(work, "scenarios.json")
        with open(scenarios, "w") as file:
            json.dump(SCENARIOS, file)
        mock_log = os.path.join(work, "mock.log")
        processes.append(start([args.mock, "--listen", "127.0.0.1:0", "--scenarios", scenarios], mock_log))
        mock_port = wait_for_line(mock_log, r"listening on port (\d+)", processes[-1]).group(1)

        config = os.path.join(work, "config.yaml")
        with open(config, "w") as file:
            file.write(config_yaml(mock_port))
        exporter_log = os.path.join(work, "exporter.log")
        processes.append(start([args.exporter, "--config.file", config, "--web.listen-address", "127.0.0.1:0"],
                               exporter_log, dict(os.environ, **MOCK_CREDENTIALS)))
        port = wait_for_line(exporter_log, r"address=127\.0\.0\.1:(\d+)", processes[-1]).group(1)

        deadline = time.monotonic() + 30
        while not all(p["last_result"] for p in targets_document(port)["probes"]):
            if time.monotonic() > deadline:
                fail(f"probes did not all report within 30 s: {targets_document(port)}")
            time.sleep(0.2)
        time.sleep(args.settle)
        url = f"http://127.0.0.1:{port}/"

        if args.docs:
            chromium(browser, work, ["--window-size=1280,900", f"--screenshot={os.path.abspath(args.docs)}"], url)
            check_png(args.docs)
            print(f"status_page: wrote {args.docs}")
            return
        os.makedirs(args.out, exist_ok=True)
        dom = chromium(browser, work, ["--dump-dom"], url)
        with open(os.path.join(args.out, "status-page.html"), "w") as file:
            file.write(dom)
        check_dom(dom, targets_document(port))
        for name, size in (("status-page.png", "1280,900"), ("status-page-phone.png", "390,844")):
            path = os.path.join(os.path.abspath(args.out), name)
            chromium(browser, work, [f"--window-size={size}", f"--screenshot={path}"], url)
            check_png(path)
        print(f"status_page: OK, DOM and screenshots in {args.out}")
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
