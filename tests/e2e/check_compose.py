#!/usr/bin/env python3
"""Checks deploy/docker-compose.yml without a docker engine.

  - the five services: exporter, mock-upstream, prometheus, alertmanager, grafana
  - every published port is bound to 127.0.0.1
  - every bind mount exists (relative to deploy/) and is read-only; other volumes are named
    volumes declared at the top level (data directories)
  - every secret is file-based, the file exists, and the services use only declared secrets
  - images carry a pinned tag (not latest); build contexts, Dockerfiles and targets exist
  - exporter and mock: numeric non-root user, read_only root, cap_drop ALL, no-new-privileges
  - configs, with the real tools: the exporter config passes `--config.check` (with --exporter;
    its api_key_file paths must be /run/secrets/<a secret the exporter gets>); Prometheus' config
    passes `promtool check config` in the layout of its mounts (rules included); Alertmanager's
    passes `amtool check-config`, and every *_file it reads is a mounted secret; the Grafana
    provisioning and dashboard folders are not empty

    check_compose.py [--exporter build/src/llm_probe_exporter]
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
DEPLOY = os.path.join(ROOT, "deploy")
COMPOSE = os.path.join(DEPLOY, "docker-compose.yml")
SERVICES = {"exporter", "mock-upstream", "prometheus", "alertmanager", "grafana"}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def parse_port(entry):
    """(host_ip, published, target) of a short or long port entry."""
    if isinstance(entry, dict):
        return entry.get("host_ip"), entry.get("published"), entry.get("target")
    parts = str(entry).split(":")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return None, parts[0], parts[1]
    return None, None, parts[0]


def parse_volume(entry):
    """(type, source, target, read_only) of a short or long volume entry."""
    if isinstance(entry, dict):
        return entry.get("type"), entry.get("source"), entry.get("target"), bool(entry.get("read_only"))
    parts = str(entry).split(":")
    source, target = parts[0], parts[1] if len(parts) > 1 else parts[0]
    options = parts[2].split(",") if len(parts) > 2 else []
    kind = "bind" if source.startswith((".", "/", "~")) else ("volume" if len(parts) > 1 else "anonymous")
    return kind, source, target, "ro" in options


def mounts_of(service):
    """container path -> host path of the service's bind mounts."""
    out = {}
    for entry in service.get("volumes", []):
        kind, source, target, _ = parse_volume(entry)
        if kind == "bind":
            out[target] = os.path.normpath(os.path.join(DEPLOY, source))
    return out


def secret_targets(service, secrets):
    """container path -> host file of the service's secrets."""
    out = {}
    for entry in service.get("secrets", []):
        name = entry if isinstance(entry, str) else entry.get("source")
        target = f"/run/secrets/{name}" if isinstance(entry, str) else entry.get("target", name)
        if not target.startswith("/"):
            target = f"/run/secrets/{target}"
        if name in secrets and "file" in secrets[name]:
            out[target] = os.path.normpath(os.path.join(DEPLOY, secrets[name]["file"]))
    return out


def dockerfile_stages(path):
    stages = set()
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*FROM\s+\S+\s+AS\s+(\S+)", line, re.I)
            if m:
                stages.add(m.group(1))
    return stages


def layout(tmp, mounts):
    """Copies bind-mounted files and folders to tmp/<container path>."""
    for target, source in mounts.items():
        dest = os.path.join(tmp, target.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.isdir(source):
            shutil.copytree(source, dest)
        elif os.path.exists(source):
            shutil.copy(source, dest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", help="llm_probe_exporter binary for --config.check")
    args = parser.parse_args()

    with open(COMPOSE) as f:
        compose = yaml.safe_load(f)
    services = compose.get("services", {})
    secrets = compose.get("secrets", {}) or {}
    named_volumes = set((compose.get("volumes") or {}).keys())
    check(SERVICES <= set(services), f"services missing: {sorted(SERVICES - set(services))}")

    for name, secret in secrets.items():
        if check("file" in secret, f"secret {name} is not file-based"):
            path = os.path.join(DEPLOY, secret["file"])
            check(os.path.isfile(path), f"secret {name}: {secret['file']} does not exist")

    for sname, service in services.items():
        where = f"service {sname}"
        for entry in service.get("ports", []):
            host_ip, published, target = parse_port(entry)
            check(host_ip == "127.0.0.1", f"{where}: port {entry} is not bound to 127.0.0.1")
        for entry in service.get("volumes", []):
            kind, source, target, read_only = parse_volume(entry)
            if kind == "bind":
                path = os.path.normpath(os.path.join(DEPLOY, source))
                check(os.path.exists(path), f"{where}: mounted {source} does not exist ({path})")
                check(read_only, f"{where}: bind mount {source} -> {target} is not read-only")
                if os.path.isdir(path):
                    check(any(os.scandir(path)), f"{where}: mounted folder {source} is empty")
            else:
                check(kind == "volume" and source in named_volumes,
                      f"{where}: volume {entry} is neither a read-only bind nor a declared named volume")
        for entry in service.get("secrets", []):
            name = entry if isinstance(entry, str) else entry.get("source")
            check(name in secrets, f"{where}: secret {name} is not declared")
        for dep in service.get("depends_on", []):
            check(dep in services, f"{where}: depends_on unknown service {dep}")
        image = service.get("image", "")
        check(re.search(r":[^/:]+$", image) and not image.endswith(":latest"),
              f"{where}: image {image!r} has no pinned tag")
        if "build" in service:
            build = service["build"]
            context = os.path.normpath(os.path.join(DEPLOY, build.get("context", ".")))
            dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
            if check(os.path.isfile(dockerfile), f"{where}: {dockerfile} does not exist"):
                target = build.get("target")
                check(target in dockerfile_stages(dockerfile),
                      f"{where}: build target {target!r} is not a stage of {dockerfile}")
        env = service.get("environment", {}) or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        for key, value in env.items():
            check(not re.search(r"(PASSWORD|TOKEN|KEY|SECRET)$", key) or key.endswith("__FILE"),
                  f"{where}: {key} holds a secret inline; use a compose secret and {key}__FILE")

    for sname in ("exporter", "mock-upstream"):
        service = services.get(sname, {})
        user = str(service.get("user", ""))
        check(re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user), f"service {sname}: user {user!r} is not numeric non-root")
        check(service.get("read_only") is True, f"service {sname}: read_only root missing")
        check(service.get("cap_drop") == ["ALL"], f"service {sname}: cap_drop [ALL] missing")
        check("no-new-privileges:true" in service.get("security_opt", []), f"service {sname}: no-new-privileges missing")

    # The exporter config, with the real binary.
    exporter = services.get("exporter", {})
    mounts = mounts_of(exporter)
    config_arg = next((a.split("=", 1)[1] for a in exporter.get("command", []) if a.startswith("--config.file=")),
                      "/etc/llm_probe_exporter/config.yaml")
    config_host = mounts.get(config_arg)
    if check(config_host and os.path.isfile(config_host), f"exporter: {config_arg} is not a mounted file"):
        with open(config_host) as f:
            text = f.read()
        config = yaml.safe_load(text)
        provided = secret_targets(exporter, secrets)
        for target in config.get("targets", []):
            key_file = target.get("api_key_file")
            check(target.get("api_key_env") is None, f"exporter: target {target['name']} uses api_key_env; use a secret")
            if key_file:
                check(key_file in provided, f"exporter: target {target['name']}: {key_file} is not a secret of the service")
                if key_file in provided:
                    text = text.replace(key_file, provided[key_file])
        if args.exporter:
            with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
                f.write(text)
                f.flush()
                result = subprocess.run([args.exporter, f"--config.file={f.name}", "--config.check"],
                                        capture_output=True, text=True, timeout=30)
            if check(result.returncode == 0, f"exporter --config.check on {config_host}: {result.stdout}{result.stderr}"):
                print(f"exporter config: {result.stdout.strip().replace(f.name, os.path.relpath(config_host, ROOT))}")

    # Prometheus, in the layout of its mounts.
    prom = services.get("prometheus", {})
    prom_config = next((a.split("=", 1)[1] for a in prom.get("command", []) if a.startswith("--config.file=")),
                       "/etc/prometheus/prometheus.yml")
    with tempfile.TemporaryDirectory() as tmp:
        layout(tmp, mounts_of(prom))
        path = os.path.join(tmp, prom_config.lstrip("/"))
        if check(os.path.isfile(path), f"prometheus: {prom_config} is not mounted"):
            with open(path) as f:
                pconf = yaml.safe_load(f)
            jobs = [j.get("job_name") for j in pconf.get("scrape_configs", [])]
            check("llm_probe_exporter" in jobs, "prometheus: no job llm_probe_exporter (the rules select it)")
            result = subprocess.run(["promtool", "check", "config", path], capture_output=True, text=True)
            if check(result.returncode == 0, f"promtool check config: {result.stdout}{result.stderr}"):
                rules = re.findall(r"SUCCESS: (\d+) rules found", result.stdout)
                print(f"prometheus config: promtool check config OK ({sum(map(int, rules))} rules in the mounted rule files)")

    # Alertmanager: valid config, and every file it reads is a mounted secret.
    am = services.get("alertmanager", {})
    am_config_arg = next((a.split("=", 1)[1] for a in am.get("command", []) if a.startswith("--config.file=")),
                         "/etc/alertmanager/alertmanager.yml")
    am_host = mounts_of(am).get(am_config_arg)
    if check(am_host and os.path.isfile(am_host), f"alertmanager: {am_config_arg} is not a mounted file"):
        result = subprocess.run(["amtool", "check-config", am_host], capture_output=True, text=True)
        check(result.returncode == 0, f"amtool check-config: {result.stdout}{result.stderr}")
        with open(am_host) as f:
            wanted = set(re.findall(r"_file:\s*(\S+)", f.read()))
        provided = secret_targets(am, secrets)
        for path in sorted(wanted):
            check(path in provided, f"alertmanager: its config reads {path}, which no secret provides")
        print(f"alertmanager config: amtool check-config OK; {len(wanted)} secret files, all mounted")

    # Grafana: its provisioning must fit the compose file (data source URL names a service,
    # dashboard provider path is a mount).
    grafana = services.get("grafana", {})
    gmounts = mounts_of(grafana)
    provisioning = gmounts.get("/etc/grafana/provisioning")
    if check(provisioning and os.path.isdir(provisioning), "grafana: /etc/grafana/provisioning is not mounted"):
        urls, paths = [], []
        for path in sorted(glob.glob(os.path.join(provisioning, "*", "*.y*ml"))):
            with open(path) as f:
                doc = yaml.safe_load(f) or {}
            urls += [d.get("url", "") for d in doc.get("datasources", [])]
            paths += [p.get("options", {}).get("path", "") for p in doc.get("providers", [])]
        check(urls, "grafana: no data source provisioned")
        for url in urls:
            host = re.sub(r"^\w+://", "", url).split("/")[0].split(":")[0]
            check(host in services, f"grafana: data source URL {url} does not name a compose service")
        check(paths, "grafana: no dashboard provider provisioned")
        for path in paths:
            check(path in gmounts, f"grafana: dashboard provider path {path} is not a mount of the service")
        dashboards = [p for m in gmounts.values() if os.path.isdir(m) for p in glob.glob(os.path.join(m, "*.json"))]
        check(dashboards, "grafana: no dashboard JSON in the mounted folders")
        print(f"grafana: data sources {urls}, dashboard providers {paths}, {len(dashboards)} dashboards")

    if failures:
        for message in failures:
            print(f"FAIL: {message}", file=sys.stderr)
        print(f"check_compose: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print(f"check_compose: OK ({len(services)} services)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
