#!/usr/bin/env bash
# scripts/install-deps.sh as run on a machine with a package missing, with apt-get and
# dpkg-query replaced by stand-ins (nothing is installed) and /usr/sbin on a private tmpfs (the
# machine's own is untouched): the policy-rc.d it creates to keep services from starting is
# gone afterwards, on success and on failure; one the machine already had stays.
# Needs root for the mount namespace, as the script itself needs root to install.
set -euo pipefail
script=$(cd "$(dirname "$0")/../.." && pwd)/scripts/install-deps.sh
if [[ $(id -u) -ne 0 ]] || ! unshare -m true 2>/dev/null; then
  echo "FAIL: needs root and mount namespaces (as scripts/test.sh has in CI)"; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
# Reports every package missing; apt-get records that policy-rc.d was in place while it ran.
cat >"$work/bin/dpkg-query" <<'STUB'
#!/bin/sh
exit 1
STUB
cat >"$work/bin/apt-get" <<'STUB'
#!/bin/sh
[ "$1" = update ] && exit 0
if [ -x /usr/sbin/policy-rc.d ]; then echo present >"$STUB_DIR/seen"; else echo absent >"$STUB_DIR/seen"; fi
exit "${APT_EXIT:-0}"
STUB
chmod +x "$work/bin/"*

run() {  # run <apt-get exit code> <pre-existing policy: yes|no>; prints "<script status> <seen> <left>"
  unshare -m bash -c '
    mount -t tmpfs tmpfs /usr/sbin
    [[ $2 == yes ]] && printf "#!/bin/sh\nexit 0\n" >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    rm -f "$STUB_DIR/seen"
    status=0
    PATH="$STUB_DIR/bin:$PATH" APT_EXIT=$1 bash "$0" >/dev/null 2>&1 || status=$?
    if [[ -e /usr/sbin/policy-rc.d ]]; then left=left; else left=gone; fi
    echo "$status $(cat "$STUB_DIR/seen" 2>/dev/null || echo none) $left"
  ' "$script" "$1" "$2"
}
export STUB_DIR=$work
failures=0
expect() {  # expect <description> <wanted> <got>
  if [[ "$2" == "$3" ]]; then echo "ok: $1"; else echo "FAIL: $1: wanted \"$2\", got \"$3\""; failures=$((failures + 1)); fi
}
expect "install succeeds: policy in place during apt-get, removed after" "0 present gone" "$(run 0 no)"
expect "apt-get fails: the script fails and still removes the policy" "100 present gone" "$(run 100 no)"
expect "a policy the machine had is kept" "0 present left" "$(run 0 yes)"
exit $((failures > 0))
