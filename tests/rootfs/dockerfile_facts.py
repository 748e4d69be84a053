#!/usr/bin/env python3
"""Prints, as shell assignments, what tests/rootfs/rootfs_test.sh needs from the Dockerfile and
from this machine's apt sources:

  RUNTIME_PACKAGES  the ARG RUNTIME_PACKAGES default (space separated)
  IMAGE_USER        USER of the last stage (uid:gid, numeric)
  ENTRYPOINT_JSON   exec-form ENTRYPOINT of the last stage (JSON array)
  CMD_JSON          exec-form CMD of the last stage (JSON array)
  HEALTHCHECK_JSON  the exec-form CMD of HEALTHCHECK in the last stage (JSON array)
  EXPOSE            the EXPOSEd port of the last stage
  MIRRORS           newline-separated "deb URI SUITE main" lines for Debian bookworm, read from
                    /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources}
                    (only Debian's own archives: other repositories are left out)

Fails (exit 1) when the Dockerfile breaks a rule the image promises: numeric non-root USER,
exec-form ENTRYPOINT/CMD/HEALTHCHECK, an EXPOSE.

    eval "$(dockerfile_facts.py Dockerfile)"
"""
import glob
import json
import re
import shlex
import sys


def instructions(path):
    """(KEYWORD, argument) per instruction, continuation lines joined, comments dropped."""
    out, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if current and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            current += line
            keyword, _, rest = current.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
            current = ""
    return out


def fail(message):
    print(f"dockerfile_facts: {message}", file=sys.stderr)
    sys.exit(1)


def exec_form(text, what):
    try:
        value = json.loads(text)
    except ValueError:
        fail(f"{what} is not in exec form (a JSON array): {text}")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        fail(f"{what} is not a JSON array of strings: {text}")
    return value


def mirrors():
    entries = []
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            with open(path) as f:
                for line in f:
                    line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                    if len(line) >= 4 and line[0] == "deb":
                        entries.append((line[1], [line[2]], line[3:]))
        except OSError:
            pass
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            for para in re.split(r"\n\s*\n", f.read()):
                fields = {}
                for line in para.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.split()
                if "deb" not in fields.get("types", []) or fields.get("enabled", ["yes"]) == ["no"]:
                    continue
                for uri in fields.get("uris", []):
                    entries.append((uri, fields.get("suites", []), fields.get("components", [])))
    lines = []
    for uri, suites, components in entries:
        if not re.search(r"/debian(-security)?/?$", uri) or "main" not in components:
            continue
        for suite in suites:
            if suite.split("-")[0] == "bookworm" or suite.startswith("bookworm/"):
                line = f"deb {uri} {suite} main"
                if line not in lines:
                    lines.append(line)
    if not any(l.split()[2] == "bookworm" for l in lines):
        fail("no Debian bookworm archive in /etc/apt/sources.list*")
    return lines


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "Dockerfile"
    stages, stage = [], None
    for keyword, arg in instructions(path):
        if keyword == "FROM":
            stage = {"from": arg, "ARG": {}}
            stages.append(stage)
        elif stage is None:
            continue
        elif keyword == "ARG":
            name, _, default = arg.partition("=")
            stage["ARG"][name] = shlex.split(default)[0] if default else ""
        else:
            stage[keyword] = arg
    if not stages:
        fail(f"{path}: no FROM")
    packages = next((s["ARG"]["RUNTIME_PACKAGES"] for s in stages if "RUNTIME_PACKAGES" in s["ARG"]), None)
    if not packages:
        fail(f"{path}: no ARG RUNTIME_PACKAGES=\"...\" in any stage")
    last = stages[-1]
    user = last.get("USER", "")
    if not re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user):
        fail(f"the last stage's USER must be numeric uid:gid, not root: {user!r}")
    if "ENTRYPOINT" not in last or "CMD" not in last or "HEALTHCHECK" not in last or "EXPOSE" not in last:
        fail("the last stage needs ENTRYPOINT, CMD, HEALTHCHECK and EXPOSE")
    entrypoint = exec_form(last["ENTRYPOINT"], "ENTRYPOINT")
    cmd = exec_form(last["CMD"], "CMD")
    m = re.search(r"\bCMD\s+(\[.*\])\s*$", last["HEALTHCHECK"])
    if not m:
        fail(f"HEALTHCHECK must use an exec-form CMD: {last['HEALTHCHECK']}")
    healthcheck = exec_form(m.group(1), "HEALTHCHECK CMD")
    facts = {
        "RUNTIME_PACKAGES": packages,
        "IMAGE_USER": user,
        "ENTRYPOINT_JSON": json.dumps(entrypoint),
        "CMD_JSON": json.dumps(cmd),
        "HEALTHCHECK_JSON": json.dumps(healthcheck),
        "EXPOSE": last["EXPOSE"].split("/")[0],
        "MIRRORS": "\n".join(mirrors()),
    }
    for key, value in facts.items():
        print(f"{key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
