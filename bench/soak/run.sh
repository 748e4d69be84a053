#!/usr/bin/env bash
# Soak (issue 8; not run in CI): the exporter binary probes 1,000 probes on the mock upstream
# binary for an hour while faults rotate through the mock's scenarios (control API:
# PUT /_mock/scenarios/<name>). It samples the exporter's RSS, open fds, threads and schedule
# lag, and reports them at the start and at the end: they must be flat.
#
#   bench/soak/run.sh                         one hour after the warm-up, 1,000 probes, build/
#   DURATION=120 WARMUP=30 bench/soak/run.sh  a shortened run
#
# Knobs: DURATION (s, 3600, measured after the warm-up), PROBES (multiple of 10, 1000), INTERVAL
# (15s), TIMEOUT (5s), HISTORY_SIZE (100), ROTATE_EVERY (s, 20), SAMPLE_EVERY (s, 10), WARMUP (s;
# default HISTORY_SIZE x INTERVAL + 60, until every probe's result rings are full: 1,560 s with
# the defaults, so the default run takes 86 min), BUILD_DIR (build), OUT (a temp
# folder: samples.csv, exporter.log, mock.log, report.txt), MAX_RSS_GROWTH_KIB (16384),
# MAX_FD_GROWTH (64: hung probes hold sockets, so the count moves with the fault rotation). Exit 1 when RSS or fds grew beyond those between start and end, or a
# scrape failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
duration=${DURATION:-3600}
probes=${PROBES:-1000}
interval=${INTERVAL:-15s}
timeout=${TIMEOUT:-5s}
rotate_every=${ROTATE_EVERY:-20}
sample_every=${SAMPLE_EVERY:-10}
history_size=${HISTORY_SIZE:-100}
# Each probe keeps its last history_size results (and failures): memory rises until those rings
# are full, history_size x interval after the start. The comparison starts after that.
interval_seconds=$(python3 -c 'import re,sys; m=re.fullmatch(r"(\d+)(ms|s|m)", sys.argv[1]); print(int(m[1]) * {"ms": 0.001, "s": 1, "m": 60}[m[2]])' "$interval")
warmup=${WARMUP:-$(python3 -c "import math; print(math.ceil($history_size * $interval_seconds) + 60)")}
build=${BUILD_DIR:-$root/build}
out=${OUT:-$(mktemp -d /tmp/llm-probe-soak.XXXXXX)}
max_rss_growth=${MAX_RSS_GROWTH_KIB:-16384}
max_fd_growth=${MAX_FD_GROWTH:-64}
exporter_bin=$build/src/llm_probe_exporter
mock_bin=$build/tools/mock_upstream/mock_upstream
[[ -x $exporter_bin && -x $mock_bin ]] || { echo "build first: scripts/build.sh (or BUILD_DIR=...)" >&2; exit 2; }
mkdir -p "$out"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Scenarios s0..s9; target i uses s(i % 10). All start healthy, with rate-limit headers.
scenarios=10
python3 - "$out/scenarios.json" "$scenarios" <<'PY'
import json, sys
path, count = sys.argv[1], int(sys.argv[2])
healthy = {"ratelimit_headers": True, "stream": {"first_token_delay_ms": 50, "token_count": 5, "token_interval_ms": 10}}
json.dump({f"s{i}": healthy for i in range(count)}, open(path, "w"))
PY
"$mock_bin" --listen 127.0.0.1:0 --scenarios "$out/scenarios.json" --threads 512 2>"$out/mock.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on port" "$out/mock.log" 2>/dev/null && break; sleep 0.1; done
mock_port=$(grep -o 'listening on port [0-9]*' "$out/mock.log" | grep -o '[0-9]*$')
[[ -n $mock_port ]] || { echo "mock did not start:" >&2; cat "$out/mock.log" >&2; exit 1; }

# PROBES probes: PROBES/10 targets of 10 probes (models, chat x3, stream x3, embeddings x3).
python3 - "$out/config.yaml" "$probes" "$mock_port" "$interval" "$timeout" "$scenarios" "$history_size" <<'PY'
import sys
path, probes, port, interval, timeout, scenarios = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
history_size = int(sys.argv[7])
lines = [f"global: {{interval: {interval}, timeout: {timeout}, history_size: {history_size}}}", "targets:"]
for t in range(probes // 10):
    lines += [f"  - name: t{t}", f"    base_url: http://127.0.0.1:{port}/s/s{t % scenarios}/v1", "    probes:",
              "      - {name: models, type: models, expect_models: [gpt-4o]}"]
    for k in range(3):
        lines += [f"      - {{name: chat{k}, type: chat, model: gpt-4o}}",
                  f"      - {{name: stream{k}, type: stream, model: gpt-4o}}",
                  f"      - {{name: embed{k}, type: embeddings, model: text-embedding-3-small}}"]
lines += ["pricing:", "  gpt-4o: {input: 2.5, output: 10}", "  text-embedding-3-small: {input: 0.02, output: 0}"]
open(path, "w").write("\n".join(lines) + "\n")
PY

"$exporter_bin" --config.file "$out/config.yaml" --web.listen-address 127.0.0.1:0 2>"$out/exporter.log" &
exporter_pid=$!
pids+=($exporter_pid)
for _ in $(seq 100); do grep -q 'address=' "$out/exporter.log" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o 'address=[^ ]*' "$out/exporter.log" | head -1 | grep -o '[0-9]*$')
[[ -n $port ]] || { echo "exporter did not start:" >&2; cat "$out/exporter.log" >&2; exit 1; }

# The faults that rotate through the scenarios: one behaviour (or cycle) each. A reply slower than
# the timeout stands for "never answers": the mock's "hang" keeps its worker thread until the
# mock stops, even after the client gave up, so 100 hung probes a round would exhaust it.
faults=(
  '{"ratelimit_headers": true}'
  '{"delay_ms": 700}'
  '{"status": 429, "error_code": "rate_limit_exceeded", "headers": {"Retry-After": "1"}}'
  '{"status": 503, "body": "html"}'
  '{"body": "malformed_json"}'
  '{"delay_ms": 7000}'
  '{"reset_mid_body": true}'
  '{"stream": {"token_count": 8, "token_interval_ms": 20, "cut_after_tokens": 3}}'
  '{"status": 200, "body": "error_envelope"}'
  '{"status": 401, "error_code": "invalid_api_key"}'
  '{"status": 429, "error_code": "insufficient_quota"}'
  '[{"ratelimit_headers": true}, {"status": 500}, {"delay_ms": 200}]'
)

metrics() { curl -sf --max-time 10 "http://127.0.0.1:$port/metrics"; }
value() { awk -v name="$1" '$1 == name {print $2; exit}'; }
failed_scrapes=0
sample() {  # elapsed -> one CSV line
  local text rss fds threads lag_sum lag_count lag_late results
  if ! text=$(metrics); then failed_scrapes=$((failed_scrapes + 1)); return; fi
  rss=$(awk '/^VmRSS:/ {print $2}' /proc/$exporter_pid/status)
  fds=$(ls /proc/$exporter_pid/fd | wc -l)
  threads=$(awk '/^Threads:/ {print $2}' /proc/$exporter_pid/status)
  lag_sum=$(value llm_probe_exporter_schedule_lag_seconds_sum <<<"$text")
  lag_count=$(value llm_probe_exporter_schedule_lag_seconds_count <<<"$text")
  lag_late=$(awk '/^llm_probe_exporter_schedule_lag_seconds_bucket\{le="1"\}/ {print $2}' <<<"$text")
  results=$(awk '/^llm_probe_total\{/ {sum += $2} END {printf "%d", sum}' <<<"$text")
  echo "$1,$rss,$fds,$threads,$lag_sum,$lag_count,$lag_late,$results" >>"$out/samples.csv"
}

echo "elapsed_s,rss_kib,fds,threads,lag_sum_s,lag_count,lag_within_1s,results" >"$out/samples.csv"
start=$SECONDS
next_rotation=0
next_sample=0
rotation=0
echo "soak: $probes probes, interval $interval, for ${duration}s (+${warmup}s warm-up); output in $out" >&2
while (( SECONDS - start < duration + warmup )); do
  elapsed=$((SECONDS - start))
  if (( elapsed >= next_rotation )); then
    for ((s = 0; s < scenarios; s++)); do
      fault=${faults[$(((s + rotation) % ${#faults[@]}))]}
      curl -sf --max-time 5 -X PUT "http://127.0.0.1:$mock_port/_mock/scenarios/s$s" -d "$fault" >/dev/null ||
        echo "control API refused $fault" >&2
    done
    rotation=$((rotation + 1))
    next_rotation=$((elapsed + rotate_every))
  fi
  if (( elapsed >= next_sample )); then
    sample "$elapsed"
    next_sample=$((elapsed + sample_every))
  fi
  kill -0 "$exporter_pid" 2>/dev/null || { echo "the exporter died" >&2; tail -20 "$out/exporter.log" >&2; exit 1; }
  sleep 1
done
sample $((SECONDS - start))

# Start = the first sample after the warm-up; end = the last sample. Lag over a window is the
# histogram's delta between two samples.
python3 - "$out/samples.csv" "$warmup" "$failed_scrapes" "$max_rss_growth" "$max_fd_growth" <<'PY' | tee "$out/report.txt"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
warmup, failed, max_rss, max_fd = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
f = lambda row, key: float(row[key])
after = [r for r in rows if f(r, "elapsed_s") >= warmup]
start, end = after[0], after[-1]
def window(a, b):
    count = f(b, "lag_count") - f(a, "lag_count")
    late = count - (f(b, "lag_within_1s") - f(a, "lag_within_1s"))
    return ((f(b, "lag_sum_s") - f(a, "lag_sum_s")) / count if count else 0.0, count, late)
first = window(after[0], after[min(1, len(after) - 1)])
last = window(after[max(0, len(after) - 2)], after[-1])
print(f"soak over {f(end, 'elapsed_s') - f(start, 'elapsed_s'):.0f} s after a {warmup} s warm-up, {len(rows)} samples, "
      f"{f(end, 'results') - f(start, 'results'):.0f} probe results, {failed} failed scrapes")
print(f"{'':22}{'start':>12}{'end':>12}")
print(f"{'RSS (KiB)':22}{f(start, 'rss_kib'):12.0f}{f(end, 'rss_kib'):12.0f}")
print(f"{'open fds':22}{f(start, 'fds'):12.0f}{f(end, 'fds'):12.0f}")
print(f"{'threads':22}{f(start, 'threads'):12.0f}{f(end, 'threads'):12.0f}")
print(f"{'lag mean (ms)':22}{first[0] * 1000:12.2f}{last[0] * 1000:12.2f}")
print(f"{'starts > 1 s late':22}{first[2]:12.0f}{last[2]:12.0f}")
print(f"{'peak RSS (KiB)':22}{max(f(r, 'rss_kib') for r in after):12.0f}")
ok = (f(end, "rss_kib") - f(start, "rss_kib") <= max_rss and f(end, "fds") - f(start, "fds") <= max_fd and failed == 0)
print("flat" if ok else "NOT flat")
sys.exit(0 if ok else 1)
PY
