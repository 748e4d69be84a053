#!/usr/bin/env python3
"""Inhibit rules of deploy/alertmanager, checked against a real Alertmanager.

amtool cannot test inhibitions, so this starts the Debian Alertmanager (prometheus-alertmanager)
on 127.0.0.1 with each given config, posts a set of alerts through the v2 API, reads back which
are inhibited, and stops the server (by its own pid) before the next config. Nothing is notified:
the alerts are listed within seconds, long before any group_wait of alertmanager.yml ends (and
the webhooks of alertmanager.e2e.yml point at a closed port).
Runs in a few seconds per config; needs only the Python standard library.

Usage: test_inhibitions.py [ALERTMANAGER_CONFIG...]
       (default: deploy/alertmanager/alertmanager.yml and alertmanager.e2e.yml)
"""
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sys.argv[1:] or [os.path.join(ROOT, "deploy/alertmanager/alertmanager.yml"),
                           os.path.join(ROOT, "deploy/alertmanager/alertmanager.e2e.yml")]
BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

E = dict(job="llm_probe_exporter", instance="localhost:9835")  # exporter A
E2 = dict(job="llm_probe_exporter", instance="localhost:19835")  # exporter B, down


def alert(name, severity, **labels):
    return dict(alertname=name, severity=severity, **labels)


# (labels, expected: inhibited?, why). Each id label makes the alert unique and names it.
CASES = [
    # critical inhibits the warning of the same alertname + target + probe
    (alert("LLMProbeErrorBudgetBurn", "critical", id="burn-page", target="t1", probe="chat", model="gpt-4o", **E), False, "the page itself"),
    (alert("LLMProbeErrorBudgetBurn", "warning", id="burn-ticket", target="t1", probe="chat", model="gpt-4o", **E), True, "page of the same probe fires"),
    (alert("LLMProbeErrorBudgetBurn", "warning", id="burn-ticket-other", target="t2", probe="chat", model="gpt-4o", **E), False, "another target"),
    (alert("LLMProbeCertificateExpiring", "critical", id="cert-3d", target="t3", **E), False, "the critical itself"),
    (alert("LLMProbeCertificateExpiring", "warning", id="cert-14d", target="t3", **E), True, "< 3 days fires"),
    # exporter down inhibits everything from that exporter, nothing from another one
    (alert("LLMProbeExporterDown", "critical", id="exporter-down", **E2), False, "the exporter alert itself"),
    (alert("LLMProbeDown", "critical", id="down-on-dead-exporter", target="t4", probe="chat", **E2), True, "its exporter is down"),
    (alert("LLMProbeFailoverGroupDegraded", "warning", id="degraded-on-dead-exporter", group="g9", **E2), True, "its exporter is down"),
    (alert("LLMProbeDown", "critical", id="down-on-live-exporter", target="t4", probe="chat", **E), False, "another exporter"),
    # exporter absent: absent() gives only job
    (alert("LLMProbeExporterAbsent", "critical", id="absent", job="llm_probe_exporter_canary"), False, "the absent alert itself"),
    (alert("LLMProbeHighLatency", "warning", id="latency-absent-job", job="llm_probe_exporter_canary", instance="x:9835", target="t5", probe="chat"), True, "its job is absent"),
    # failover group down inhibits its members' LLMProbeDown and burn alerts, not the causes
    (alert("LLMProbeFailoverGroupDown", "critical", id="group-down-t6", group="chat-primary", target="t6", **E), False, "the group alert itself"),
    (alert("LLMProbeFailoverGroupDown", "critical", id="group-down-t7", group="chat-primary", target="t7", **E), False, "the group alert itself"),
    (alert("LLMProbeDown", "warning", id="member-down-t6", target="t6", probe="chat", **E), True, "its group is down"),
    (alert("LLMProbeDown", "warning", id="member-down-t7", target="t7", probe="stream", **E), True, "its group is down"),
    (alert("LLMProbeErrorBudgetBurn", "critical", id="member-burn-t6", target="t6", probe="chat", **E), True, "its group is down"),
    (alert("LLMProbeAuthFailure", "critical", id="member-auth-t6", target="t6", probe="models", status="AUTH_ERROR", **E), False, "a cause, kept"),
    (alert("LLMProbeDown", "warning", id="nonmember-down", target="t10", probe="chat", **E), False, "not a member"),
    # a cause inhibits the symptoms of the same probe only
    (alert("LLMProbeAuthFailure", "critical", id="auth-t8", target="t8", probe="chat", status="AUTH_ERROR", **E), False, "the cause itself"),
    (alert("LLMProbeDown", "critical", id="auth-t8-down", target="t8", probe="chat", **E), True, "auth failure of the same probe"),
    (alert("LLMProbeDown", "critical", id="auth-t8-other-probe", target="t8", probe="stream", **E), False, "another probe"),
    (alert("LLMProbeQuotaExceeded", "critical", id="quota-t9", target="t9", probe="chat", status="QUOTA_EXCEEDED", **E), False, "the cause itself"),
    (alert("LLMProbeErrorBudgetBurn", "warning", id="quota-t9-burn", target="t9", probe="chat", **E), True, "quota exceeded on the same probe"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, timeout=5):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def main():
    if not BINARY:
        print("test_inhibitions: prometheus-alertmanager not found (Debian: prometheus-alertmanager)", file=sys.stderr)
        return 2
    fail = 0
    for config in CONFIGS:
        print(f"== {config}")
        fail |= check(config)
    print("test_inhibitions: " + ("all inhibition cases pass" if not fail else "FAILED"))
    return fail


def check(config):
    tmp = tempfile.mkdtemp(prefix="am-inhibit-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tmp, "alertmanager.log"), "w+")
    proc = subprocess.Popen(
        [BINARY, f"--config.file={config}", f"--storage.path={tmp}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while True:
            try:
                http(base + "/-/ready")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.time() > deadline:
                    log.seek(0)
                    print("test_inhibitions: Alertmanager did not become ready:\n" + log.read(), file=sys.stderr)
                    return 1
                time.sleep(0.2)
        now = datetime.datetime.now(datetime.timezone.utc)
        payload = [{"labels": labels,
                    "annotations": {"summary": why},
                    "startsAt": now.isoformat(),
                    "endsAt": (now + datetime.timedelta(minutes=10)).isoformat()}
                   for labels, _, why in CASES]
        http(base + "/api/v2/alerts", json.dumps(payload).encode())
        # The inhibitor ingests alerts asynchronously: poll until the listing matches what is
        # expected, or give up after a while and report the last listing.
        # A match is confirmed by a second listing a second later, so that an alert inhibited by
        # mistake through a late-ingested source is not missed.
        def listing():
            got = json.loads(http(base + "/api/v2/alerts?active=true&inhibited=true&silenced=true&unprocessed=true"))
            return {a["labels"]["id"]: bool(a["status"].get("inhibitedBy")) for a in got}

        def matches(by_id):
            return all(by_id.get(labels["id"]) == want for labels, want, _ in CASES)

        deadline = time.time() + 15
        while True:
            by_id = listing()
            if matches(by_id):
                time.sleep(1)
                by_id = listing()
                if matches(by_id):
                    break
            if time.time() > deadline:
                break
            time.sleep(0.3)
        fail = 0
        for labels, want, why in CASES:
            inhibited = by_id.get(labels["id"])
            if inhibited is None:
                print(f"FAIL  {labels['id']}: not returned by Alertmanager")
                fail = 1
                continue
            verdict = "ok  " if inhibited == want else "FAIL"
            if inhibited != want:
                fail = 1
            print(f"{verdict}  {labels['id']:28} {labels['alertname']:30} "
                  f"{'inhibited' if inhibited else 'notified '} (want {'inhibited' if want else 'notified'}: {why})")
        return fail
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
