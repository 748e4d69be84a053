#!/usr/bin/env bash
# Runs the exporter in the Dockerfile's runtime file set, without a docker engine.
#
#   1. Reads the Dockerfile (tests/rootfs/dockerfile_facts.py): RUNTIME_PACKAGES, USER, ENTRYPOINT,
#      CMD, HEALTHCHECK, EXPOSE — the same list the image installs, so the two cannot drift.
#   2. Builds a bookworm-slim-like root file system with mmdebstrap (--variant=essential, the
#      runtime packages, docs/man/locales left out as in the slim image) from this machine's
#      Debian mirrors, as a tarball cached in --cache-dir (key: packages, mirrors, options), so
#      reruns skip the ~1.5 minutes it takes.
#   3. Unpacks it, copies the built binary to /usr/local/bin and a config (one target on the mock
#      upstream, key from /run/secrets) to /etc/llm_probe_exporter/config.yaml; checks that ldd
#      resolves every library inside the root.
#   4. Starts ENTRYPOINT + CMD (+ --web.listen-address=127.0.0.1:<free port>) in a private mount
#      namespace on a READ-ONLY bind of the root, with /proc and a minimal /dev, as the image's
#      USER (chroot --userspec 65532:65532) and an empty environment; checks the process uid,
#      scrapes /metrics once from outside with curl (a probe through the mock must be UP, and
#      `promtool check metrics` must pass), runs the HEALTHCHECK command inside the same root,
#      then sends SIGTERM and expects exit status 0.
#
# Usage: rootfs_test.sh --exporter PATH --mock PATH [--cache-dir DIR] [--dockerfile PATH]
# Needs root (chroot, mount namespaces) and the Debian packages mmdebstrap, curl, python3.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(cd "$here/../.." && pwd)
exporter="" mock="" cache_dir="" dockerfile="$root_dir/Dockerfile"
while [ $# -gt 0 ]; do
  case $1 in
    --exporter) exporter=$(readlink -f "$2"); shift 2 ;;
    --mock) mock=$(readlink -f "$2"); shift 2 ;;
    --cache-dir) cache_dir=$2; shift 2 ;;
    --dockerfile) dockerfile=$2; shift 2 ;;
    *) echo "rootfs_test: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$exporter" ] && [ -x "$mock" ] || { echo "usage: $0 --exporter PATH --mock PATH [--cache-dir DIR]" >&2; exit 2; }
cache_dir=${cache_dir:-${TMPDIR:-/tmp}/llm-probe-rootfs-cache}

say() { echo "[$(date +%H:%M:%S)] rootfs_test: $*"; }
fail() { echo "rootfs_test: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (chroot and a mount namespace), as CI runs"
for tool in mmdebstrap curl python3 unshare chroot nsenter; do
  command -v "$tool" >/dev/null || fail "'$tool' not found — apt-get install mmdebstrap curl python3 util-linux coreutils"
done

started=$SECONDS
eval "$(python3 "$here/dockerfile_facts.py" "$dockerfile")"
say "Dockerfile: USER $IMAGE_USER, EXPOSE $EXPOSE, runtime packages: $RUNTIME_PACKAGES"

# --- 2. the root file system, cached ---------------------------------------------------------
dpkg_opts=(--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
           --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*'
           --dpkgopt='path-exclude=/usr/share/info/*')
mapfile -t mirrors <<<"$MIRRORS"
key=$( { echo "essential"; echo "$RUNTIME_PACKAGES"; printf '%s\n' "${mirrors[@]}" "${dpkg_opts[@]}";
         mmdebstrap --version; } | sha256sum | cut -c1-16)
tarball="$cache_dir/rootfs-bookworm-$key.tar"
mkdir -p "$cache_dir"
if [ -s "$tarball" ]; then
  say "cached root file system: $tarball"
else
  say "building the root file system with mmdebstrap (about 1.5 minutes) from: ${mirrors[*]}"
  rm -f "$cache_dir"/rootfs-bookworm-*.tar "$cache_dir"/rootfs-bookworm-*.tar.part
  t0=$SECONDS
  mmdebstrap --quiet --variant=essential --include="${RUNTIME_PACKAGES// /,}" "${dpkg_opts[@]}" \
    --format=tar bookworm "$tarball.part" "${mirrors[@]}" \
    || fail "mmdebstrap failed (are the Debian mirrors reachable?)"
  mv "$tarball.part" "$tarball"
  say "built in $((SECONDS - t0))s ($(du -h "$tarball" | cut -f1))"
fi

# --- 3. unpack, install binary and config ------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/llm-probe-rootfs.XXXXXX")
rootfs="$work/root"
mock_pid="" ns_pid="" exporter_pid=""
cleanup() {
  set +e
  [ -n "$exporter_pid" ] && kill -0 "$exporter_pid" 2>/dev/null && kill -KILL "$exporter_pid"
  [ -n "$ns_pid" ] && { kill -0 "$ns_pid" 2>/dev/null && kill -KILL "$ns_pid"; wait "$ns_pid" 2>/dev/null; }
  [ -n "$mock_pid" ] && { kill -TERM "$mock_pid" 2>/dev/null; wait "$mock_pid" 2>/dev/null; }
  # The mounts lived in the exporter's private namespace; never delete through a live mount.
  if findmnt -rn -o TARGET | grep -q "^$work"; then
    echo "rootfs_test: mounts left under $work; not deleting it" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$rootfs"
tar -C "$rootfs" -xf "$tarball"
say "root file system: $(du -sh "$rootfs" | cut -f1)"

uid=${IMAGE_USER%%:*}
gid=${IMAGE_USER##*:}
install -D -m 0755 "$exporter" "$rootfs/usr/local/bin/llm_probe_exporter"
if chroot "$rootfs" /usr/bin/ldd /usr/local/bin/llm_probe_exporter | grep -q "not found"; then
  chroot "$rootfs" /usr/bin/ldd /usr/local/bin/llm_probe_exporter >&2
  fail "libraries missing from the runtime file set: add their packages to RUNTIME_PACKAGES in the Dockerfile"
fi
say "ldd: every library of llm_probe_exporter resolves inside the root"

# The mock upstream runs outside, on the host's loopback (the root shares the network).
"$mock" --listen 127.0.0.1:0 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 50); do
  mock_port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$work/mock.log" | head -1)
  [ -n "$mock_port" ] && break
  sleep 0.1
done
[ -n "${mock_port:-}" ] || fail "mock_upstream did not start: $(cat "$work/mock.log")"

config_path=$(python3 -c 'import json,sys; print(next(a.split("=",1)[1] for a in json.loads(sys.argv[1]) if a.startswith("--config.file=")))' "$CMD_JSON")
install -d -m 0755 "$rootfs$(dirname "$config_path")" "$rootfs/run/secrets"
cat >"$rootfs$config_path" <<EOF
global: {interval: 1s, timeout: 800ms, failure_threshold: 2}
targets:
  - name: mock
    base_url: http://127.0.0.1:$mock_port/s/healthy/v1
    api_key_file: /run/secrets/mock_api_key
    probes:
      - {name: models, type: models, expect_models: [gpt-4o]}
EOF
chmod 0644 "$rootfs$config_path"
echo "sk-rootfs-test" >"$rootfs/run/secrets/mock_api_key"
chown "0:$gid" "$rootfs/run/secrets/mock_api_key"
chmod 0440 "$rootfs/run/secrets/mock_api_key"

# --- 4. run it as the image would: read-only root, USER, ENTRYPOINT + CMD ----------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mapfile -t argv < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1]) + json.loads(sys.argv[2])))' \
  "$ENTRYPOINT_JSON" "$CMD_JSON")
argv+=("--web.listen-address=127.0.0.1:$port")
say "starting as $uid:$gid on a read-only root: ${argv[*]}"
unshare --mount --propagation private --fork -- /bin/sh -c '
  set -e
  root=$1; user=$2; pidfile=$3; shift 3
  mount --bind "$root" "$root"
  mount -o remount,bind,ro "$root"
  mount -t proc proc "$root/proc"
  mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs "$root/dev"
  for d in null zero full random urandom; do
    touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"
  done
  echo $$ >"$pidfile"
  exec chroot --userspec="$user" "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin "$@"
' rootfs "$rootfs" "$uid:$gid" "$work/exporter.pid" "${argv[@]}" >"$work/exporter.log" 2>&1 &
ns_pid=$!

base="http://127.0.0.1:$port"
for _ in $(seq 100); do
  [ -s "$work/exporter.pid" ] && exporter_pid=$(cat "$work/exporter.pid")
  kill -0 "$ns_pid" 2>/dev/null || { cat "$work/exporter.log" >&2; fail "the exporter exited at start"; }
  curl -fsS -o /dev/null "$base/-/ready" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null "$base/-/ready" || { cat "$work/exporter.log" >&2; fail "not ready within 20s"; }
proc_uid=$(stat -c %u "/proc/$exporter_pid")
proc_gid=$(stat -c %g "/proc/$exporter_pid")
[ "$proc_uid:$proc_gid" = "$uid:$gid" ] || fail "the exporter runs as $proc_uid:$proc_gid, want $uid:$gid"
say "ready; pid $exporter_pid runs as $proc_uid:$proc_gid"

# One probe through the mock must come out UP, then take the scrape.
for _ in $(seq 50); do
  curl -fsS "$base/metrics" >"$work/metrics.txt" || fail "GET /metrics failed"
  grep -q '^llm_probe_success{.*target="mock".*} 1$' "$work/metrics.txt" && break
  sleep 0.2
done
grep -q '^llm_probe_success{.*target="mock".*} 1$' "$work/metrics.txt" \
  || { grep '^llm_probe_s' "$work/metrics.txt" >&2; fail "the probe through the mock upstream is not UP"; }
for metric in llm_probe_exporter_build_info process_resident_memory_bytes llm_probe_healthy; do
  grep -q "^$metric" "$work/metrics.txt" || fail "/metrics lacks $metric"
done
if command -v promtool >/dev/null; then
  promtool check metrics <"$work/metrics.txt" || fail "promtool check metrics"
fi
rss=$(awk '/^process_resident_memory_bytes/ {printf "%.1f MiB", $2/1048576}' "$work/metrics.txt")
say "scraped /metrics: $(grep -c '^llm_probe' "$work/metrics.txt") llm_probe series, probe UP, resident memory $rss"

# The HEALTHCHECK command, inside the same root and namespace, as the same user.
mapfile -t health < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$HEALTHCHECK_JSON")
health_flag=${health[1]:-}
if "$exporter" --help 2>&1 | grep -q -- "${health_flag%%=*}"; then
  health_argv=()
  for arg in "${health[@]}"; do
    case $arg in --web.listen-address=*) arg="--web.listen-address=127.0.0.1:$port" ;; esac
    health_argv+=("$arg")
  done
  nsenter --target "$exporter_pid" --mount -- chroot --userspec="$uid:$gid" "$rootfs" "${health_argv[@]}" \
    || fail "HEALTHCHECK ${health_argv[*]} exited $? against a healthy exporter"
  say "HEALTHCHECK ${health_argv[*]}: exit 0"
  health_down=1
else
  echo "rootfs_test: WARNING: HEALTHCHECK NOT VERIFIED: the binary has no ${health_flag%%=*} flag yet" \
       "(the Dockerfile's HEALTHCHECK uses it)" >&2
fi

# SIGTERM: exit 0 within the probe timeout (plus margin).
kill -TERM "$exporter_pid"
for _ in $(seq 100); do kill -0 "$ns_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ns_pid" 2>/dev/null && fail "still running 10s after SIGTERM"
status=0
wait "$ns_pid" || status=$?
ns_pid="" exporter_pid=""
[ "$status" = 0 ] || { tail -5 "$work/exporter.log" >&2; fail "exit status $status after SIGTERM, want 0"; }
say "SIGTERM: exit 0"
if [ "${health_down:-0}" = 1 ]; then
  if chroot --userspec="$uid:$gid" "$rootfs" "${health_argv[@]}"; then
    fail "HEALTHCHECK ${health_argv[*]} exited 0 with the exporter stopped"
  fi
  say "HEALTHCHECK with the exporter stopped: non-zero, as it must"
fi
say "PASSED in $((SECONDS - started))s"
