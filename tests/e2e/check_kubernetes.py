#!/usr/bin/env python3
"""Checks deploy/kubernetes: renders the base and the prometheus-operator overlay and validates
what comes out.

Rendering: `kubectl kustomize` (or a standalone `kustomize build`) when one is installed. Without
either, a small built-in renderer (resources, configMapGenerator, images — the only kustomization
features the manifests use) stands in, and the output says so: Debian bookworm packages no
kustomize, and its kubernetes-client (kubectl 1.20) embeds kustomize v2.0.3, too old for these
kustomizations (directories in `resources`).

Checks on the rendered objects:
  - PrometheusRule: generate-prometheusrule.py --check, then spec.groups equal to the groups of
    deploy/prometheus/rules/*.yml (a diff on mismatch), and `promtool check rules` on them
  - Deployment: one replica; restricted security context (runAsNonRoot, uid/gid 65532,
    readOnlyRootFilesystem, allowPrivilegeEscalation false, capabilities drop ALL, seccomp
    RuntimeDefault); resources requests and limits; liveness /-/healthy and readiness /-/ready on
    the `metrics` port; volumes that name a rendered ConfigMap and Secret; read-only mounts
  - Service: port `metrics` 9835 -> container port `metrics`; its selector selects the pods
  - the config: --config.file lies in the ConfigMap mount and the ConfigMap has that key; every
    api_key_file is a key of the mounted Secret; with --exporter, `--config.check` passes on it
    (the Secret's keys written to a temporary folder)
  - ServiceMonitor: selects the Service, scrapes port `metrics`, sets job="llm_probe_exporter"

    check_kubernetes.py [--exporter build/src/llm_probe_exporter]
"""
import argparse
import copy
import difflib
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
K8S = os.path.join(ROOT, "deploy/kubernetes")
BASE = os.path.join(K8S, "base")
OVERLAY = os.path.join(K8S, "overlays/prometheus-operator")

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


# ------------------------------------------------------------------------------------------------
# Rendering

def render_with_tool(path):
    if shutil.which("kubectl"):
        argv = ["kubectl", "kustomize", path]
    elif shutil.which("kustomize"):
        argv = ["kustomize", "build", path]
    else:
        return None, None
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"check_kubernetes: {' '.join(argv)} failed:\n{result.stderr}")
    return list(d for d in yaml.safe_load_all(result.stdout) if d), " ".join(argv[:2])


SUPPORTED = {"apiVersion", "kind", "resources", "configMapGenerator", "images"}


def render_builtin(path):
    """The subset of kustomize these manifests use; names get no hash suffix."""
    with open(os.path.join(path, "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    unknown = set(k) - SUPPORTED
    if unknown:
        raise SystemExit(f"check_kubernetes: built-in renderer does not know {sorted(unknown)} "
                         f"in {path}/kustomization.yaml: install kubectl or kustomize")
    objects = []
    for resource in k.get("resources", []):
        target = os.path.normpath(os.path.join(path, resource))
        if os.path.isdir(target):
            objects.extend(render_builtin(target))
        else:
            with open(target) as f:
                objects.extend(d for d in yaml.safe_load_all(f) if d)
    for gen in k.get("configMapGenerator", []):
        data = {}
        for entry in gen.get("files", []):
            key, _, file_ = entry.partition("=") if "=" in entry else (os.path.basename(entry), "", entry)
            real = os.path.normpath(os.path.join(path, file_))
            if not real.startswith(path + os.sep):
                raise SystemExit(f"check_kubernetes: {entry} is outside {path} (kustomize refuses it)")
            with open(real) as f:
                data[key] = f.read()
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]},
                        "data": data})
    for image in k.get("images", []):
        for obj in objects:
            for c in pod_spec(obj).get("containers", []) if pod_spec(obj) else []:
                name, _, tag = c["image"].partition(":")
                if name == image["name"]:
                    c["image"] = image.get("newName", name) + ":" + image.get("newTag", tag or "latest")
    return objects


def render(path, renderer):
    if renderer == "builtin":
        return render_builtin(path), "the built-in renderer (--renderer builtin)"
    objects, tool = render_with_tool(path)
    if objects is None:
        return render_builtin(path), "the built-in renderer (NO kubectl or kustomize installed)"
    # Keep the stand-in honest: it must produce the same objects as the real tool.
    def names(objs):
        return sorted((o["kind"], re.sub(r"-[a-z0-9]{10}$", "", o["metadata"]["name"])
                       if o["kind"] in ("ConfigMap", "Secret") else o["metadata"]["name"]) for o in objs)
    builtin = render_builtin(path)
    check(names(builtin) == names(objects),
          f"{path}: the built-in renderer gives {names(builtin)}, {tool} gives {names(objects)}")
    return objects, tool


def pod_spec(obj):
    if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
        return obj["spec"]["template"]["spec"]
    return None


def one(objects, kind):
    found = [o for o in objects if o.get("kind") == kind]
    check(len(found) == 1, f"expected exactly one {kind}, found {len(found)}")
    return found[0] if found else {}


# ------------------------------------------------------------------------------------------------
# Checks

def check_base(objects, exporter, where):
    deploy = one(objects, "Deployment")
    service = one(objects, "Service")
    configmap = one(objects, "ConfigMap")
    secret = one(objects, "Secret")
    one(objects, "ServiceAccount")
    spec = deploy.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    check(spec.get("replicas") == 1, f"{where}: Deployment replicas is {spec.get('replicas')}, want 1")
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, f"{where}: pod runAsNonRoot")
    check(psc.get("runAsUser") == 65532, f"{where}: pod runAsUser 65532")
    check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: pod seccomp RuntimeDefault")
    check(pod.get("automountServiceAccountToken") is False, f"{where}: automountServiceAccountToken false")
    containers = pod.get("containers", [])
    check(len(containers) == 1, f"{where}: one container")
    c = containers[0] if containers else {}
    sc = c.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 65532, f"{where}: container non-root 65532")
    check(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
    check(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation false")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities drop ALL")
    check(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: container seccomp")
    check(not sc.get("privileged"), f"{where}: not privileged")
    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        check({"cpu", "memory"} <= set(res.get(kind, {})), f"{where}: resources.{kind} cpu and memory")
    check(":" in c.get("image", "") and not c["image"].endswith(":latest"), f"{where}: image has a pinned tag ({c.get('image')})")
    ports = {p.get("name"): p for p in c.get("ports", [])}
    check(ports.get("metrics", {}).get("containerPort") == 9835, f"{where}: container port metrics 9835")
    for probe, path in (("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")):
        get = c.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and get.get("port") in ("metrics", 9835),
              f"{where}: {probe} GET {path} on port metrics (got {get})")

    # Volumes and mounts.
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    for name, m in mounts.items():
        check(m.get("readOnly") is True, f"{where}: mount {name} is not readOnly")
        check(name in volumes, f"{where}: mount {name} has no volume")
    cm_volume = next((v for v in volumes.values() if "configMap" in v), None)
    secret_volume = next((v for v in volumes.values() if "secret" in v), None)
    check(cm_volume and cm_volume["configMap"]["name"] == configmap.get("metadata", {}).get("name"),
          f"{where}: the ConfigMap volume names {cm_volume and cm_volume['configMap']['name']}, "
          f"rendered ConfigMap is {configmap.get('metadata', {}).get('name')}")
    check(secret_volume and secret_volume["secret"]["secretName"] == secret.get("metadata", {}).get("name"),
          f"{where}: the Secret volume does not name the rendered Secret")

    # The config file: in the ConfigMap mount, a key of the ConfigMap.
    args = c.get("args", [])
    config_file = next((a.split("=", 1)[1] for a in args if a.startswith("--config.file=")), None)
    check(config_file, f"{where}: no --config.file=... in args")
    cm_mount = mounts.get(cm_volume["name"]) if cm_volume else None
    if config_file and cm_mount:
        check(os.path.dirname(config_file) == cm_mount["mountPath"].rstrip("/"),
              f"{where}: --config.file {config_file} is not in the ConfigMap mount {cm_mount['mountPath']}")
        key = os.path.basename(config_file)
        check(key in configmap.get("data", {}), f"{where}: ConfigMap has no key {key}")
    secret_mount = mounts.get(secret_volume["name"]) if secret_volume else None
    secret_values = dict(secret.get("stringData", {}))
    config_text = configmap.get("data", {}).get(os.path.basename(config_file or ""), "")
    config = yaml.safe_load(config_text) or {}
    key_paths = {}
    for target in config.get("targets", []):
        path = target.get("api_key_file")
        if not path:
            continue
        ok = secret_mount and os.path.dirname(path) == secret_mount["mountPath"].rstrip("/")
        check(ok, f"{where}: target {target['name']}: api_key_file {path} is not in the Secret mount")
        check(os.path.basename(path) in secret_values,
              f"{where}: target {target['name']}: the Secret has no key {os.path.basename(path)}")
        key_paths[path] = secret_values.get(os.path.basename(path), "")
    check(key_paths, f"{where}: no target reads its key from the Secret (api_key_file)")

    # Service.
    sports = {p.get("name"): p for p in service.get("spec", {}).get("ports", [])}
    check(sports.get("metrics", {}).get("port") == 9835, f"{where}: Service port metrics 9835")
    check(sports.get("metrics", {}).get("targetPort") in ("metrics", 9835), f"{where}: Service targetPort metrics")
    pod_labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    selector = service.get("spec", {}).get("selector", {})
    check(selector and all(pod_labels.get(k) == v for k, v in selector.items()),
          f"{where}: Service selector {selector} does not select pod labels {pod_labels}")
    check(all(pod_labels.get(k) == v for k, v in spec.get("selector", {}).get("matchLabels", {}).items()),
          f"{where}: Deployment selector does not match its pod labels")

    if exporter and config_text:
        with tempfile.TemporaryDirectory() as tmp:
            for path, value in key_paths.items():
                with open(os.path.join(tmp, os.path.basename(path)), "w") as f:
                    f.write(value)
            for old in key_paths:
                config_text = config_text.replace(old, os.path.join(tmp, os.path.basename(old)))
            cfg = os.path.join(tmp, "config.yaml")
            with open(cfg, "w") as f:
                f.write(config_text)
            result = subprocess.run([exporter, f"--config.file={cfg}", "--config.check"],
                                    capture_output=True, text=True, timeout=30)
            check(result.returncode == 0, f"{where}: exporter --config.check on the ConfigMap's "
                  f"config failed: {result.stdout}{result.stderr}")
            if result.returncode == 0:
                print(f"  {where}: config: {result.stdout.strip()}")
    return service


def rule_groups():
    groups = []
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy/prometheus/rules/*.yml"))):
        with open(path) as f:
            groups.extend(yaml.safe_load(f).get("groups", []))
    return groups


def check_overlay(objects, service, where):
    sm = one(objects, "ServiceMonitor")
    rule = one(objects, "PrometheusRule")
    labels = service.get("metadata", {}).get("labels", {})
    sel = sm.get("spec", {}).get("selector", {}).get("matchLabels", {})
    check(sel and all(labels.get(k) == v for k, v in sel.items()),
          f"{where}: ServiceMonitor selector {sel} does not select the Service labels {labels}")
    endpoints = sm.get("spec", {}).get("endpoints", [])
    check(len(endpoints) == 1 and endpoints[0].get("port") == "metrics",
          f"{where}: ServiceMonitor must scrape the port named metrics")
    relabel = [r for e in endpoints for r in e.get("relabelings", [])
               if r.get("targetLabel") == "job" and r.get("replacement") == "llm_probe_exporter"]
    check(relabel, f"{where}: ServiceMonitor must set job=\"llm_probe_exporter\" (the rules select it)")
    # Alert identity must survive a rollout: `instance` from names, never the pod IP (issue 14).
    instance = [r for e in endpoints for r in e.get("relabelings", []) if r.get("targetLabel") == "instance"]
    check(instance and all("__address__" not in r.get("sourceLabels", []) for r in instance)
          and any("__meta_kubernetes_service_name" in r.get("sourceLabels", []) for r in instance),
          f"{where}: ServiceMonitor must set a stable instance (namespace/service, or namespace/pod "
          "for StatefulSet replicas), not the pod IP")

    # The PrometheusRule carries exactly the shipped rule groups.
    want = rule_groups()
    got = rule.get("spec", {}).get("groups", [])
    if not check(got == want, f"{where}: PrometheusRule spec.groups differ from deploy/prometheus/rules/*.yml "
                 "(run deploy/kubernetes/generate-prometheusrule.py)"):
        diff = difflib.unified_diff(
            yaml.safe_dump(want, sort_keys=False, width=1000).splitlines(),
            yaml.safe_dump(got, sort_keys=False, width=1000).splitlines(),
            "deploy/prometheus/rules/*.yml", "PrometheusRule spec.groups", lineterm="", n=2)
        print("\n".join(list(diff)[:80]))
    else:
        print(f"  {where}: PrometheusRule spec.groups == deploy/prometheus/rules/*.yml "
              f"({len(got)} groups, {sum(len(g['rules']) for g in got)} rules)")
    if shutil.which("promtool"):
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            yaml.safe_dump({"groups": copy.deepcopy(got)}, f, sort_keys=False)
            f.flush()
            result = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
            check(result.returncode == 0, f"{where}: promtool check rules on the PrometheusRule: "
                  f"{result.stdout}{result.stderr}")
    else:
        check(False, "promtool not found (Debian package prometheus)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", help="llm_probe_exporter binary for --config.check")
    parser.add_argument("--renderer", choices=("auto", "builtin"), default="auto",
                        help="auto: kubectl kustomize or kustomize build if installed")
    args = parser.parse_args()

    result = subprocess.run([sys.executable, os.path.join(K8S, "generate-prometheusrule.py"), "--check"],
                            capture_output=True, text=True)
    check(result.returncode == 0, f"prometheusrule.yaml is stale: {result.stderr.strip()}")

    base, tool = render(BASE, args.renderer)
    print(f"base: {len(base)} objects rendered with {tool}: "
          + ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in base))
    service = check_base(base, args.exporter, "base")

    overlay, tool = render(OVERLAY, args.renderer)
    print(f"overlay prometheus-operator: {len(overlay)} objects rendered with {tool}: "
          + ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in overlay))
    check_base([o for o in overlay if o["kind"] not in ("ServiceMonitor", "PrometheusRule")],
               None, "overlay")
    check_overlay(overlay, service, "overlay")

    if failures:
        for message in failures:
            print(f"FAIL: {message}", file=sys.stderr)
        print(f"check_kubernetes: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("check_kubernetes: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
