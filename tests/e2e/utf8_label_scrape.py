#!/usr/bin/env python3
"""A relay answering with a long multi-byte model name, scraped by a real Prometheus.

The served model becomes the `served` label of llm_probe_served_model_info, cut to 128 bytes.
Cut inside a UTF-8 character, the label value is invalid and Prometheus rejects the whole scrape
("invalid UTF-8 label value"): `up` drops to 0 and every series of every probe goes stale. This
test drives such a name through the mock upstream, the exporter and Prometheus, and checks that
the scrape succeeds and the label arrives cut on a character boundary.

Standard library only; uses the stack of the dashboard tests (tests/dashboards/dashstack.py).
"""
import argparse
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "dashboards"))
import dashstack  # noqa: E402

# 43 Hangul syllables of 3 bytes = 129 bytes: the 128-byte cut falls inside the last one.
LONG_MODEL = "모" * 43 + "-chat"

dashstack.SCENARIOS = {"korean": {"served_model": LONG_MODEL}}
dashstack.CONFIG = """\
global: {{interval: 1s, timeout: 900ms, jitter: 0%}}
targets:
  - name: korean-relay
    base_url: {mock}/s/korean/v1
    probes:
      - {{name: chat, type: chat, model: gpt-4o}}
"""


def query(stack, expression):
    url = f"{stack.prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    return json.loads(dashstack.http("GET", url)[1])["data"]["result"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--mock-upstream", required=True)
    args = parser.parse_args()
    with dashstack.Stack(args.exporter, args.mock_upstream) as stack:
        # Bounded wait for Prometheus' first scrapes after the first probe result.
        deadline = time.monotonic() + 60
        served = up = []
        while time.monotonic() < deadline:
            up = query(stack, 'up{job="llm_probe_exporter"}')
            served = query(stack, "llm_probe_served_model_info")
            probed = query(stack, "sum(llm_probe_total) > 0")
            if up and probed and (up[0]["value"][1] == "0" or served):
                break
            time.sleep(0.5)
        up_value = up[0]["value"][1] if up else None
        if up_value != "1" or not probed:
            print(f"FAIL: up = {up_value}, want 1: Prometheus rejected the scrape", file=sys.stderr)
            print(stack.tail("prometheus-0"), file=sys.stderr)
            return 1
        if not served:
            print("FAIL: llm_probe_served_model_info never arrived", file=sys.stderr)
            return 1
        label = served[0]["metric"]["served"]
        want = "모" * 42
        if label != want:
            print(f"FAIL: served={label!r} ({len(label.encode())} bytes), want {want!r}", file=sys.stderr)
            return 1
        print(f"ok: up == 1 and served cut to {len(label.encode())} bytes on a character boundary")
        return 0


if __name__ == "__main__":
    sys.exit(main())
