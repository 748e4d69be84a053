#!/usr/bin/env bash
# Runs the libFuzzer targets of a -DLLM_PROBE_FUZZ=ON build (docs/reliability.md, "Fuzzing").
#   tests/fuzz/run.sh BUILD_DIR SECONDS [FUZZER...]     default: every fuzzer built there
# Each fuzzer starts from its seed corpus (tests/fuzz/corpus/<fuzzer>, plus the config fixtures
# for config_fuzzer) and its crash regressions, writes new inputs to a scratch corpus
# ($FUZZ_WORK, default a temporary folder), and stops after SECONDS. A crash leaves
# crash-* / timeout-* / oom-* in the scratch folder and fails the run; copy it to
# tests/fuzz/regressions/<fuzzer>/ once fixed, so the replay ctest keeps it fixed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?build dir}
seconds=${2:?seconds}
shift 2
fuzzers=("$@")
if [[ ${#fuzzers[@]} -eq 0 ]]; then
  for binary in "$build"/tests/fuzz/*_fuzzer; do
    [[ -x $binary ]] && fuzzers+=("$(basename "$binary")")
  done
fi
[[ ${#fuzzers[@]} -gt 0 ]] || { echo "no fuzzers in $build/tests/fuzz" >&2; exit 1; }
work=${FUZZ_WORK:-$(mktemp -d)}
status=0
for fuzzer in "${fuzzers[@]}"; do
  seeds=("$here/corpus/$fuzzer")
  [[ -d $here/regressions/$fuzzer ]] && seeds+=("$here/regressions/$fuzzer")
  [[ $fuzzer == config_fuzzer ]] && seeds+=("$here/../testdata/config/good" "$here/../testdata/config/bad")
  mkdir -p "$work/$fuzzer/corpus" "$work/$fuzzer/artifacts"
  log="$work/$fuzzer/log"
  # -rss_limit_mb: the fuzzed code handles bodies of at most a few MiB; -timeout: any input
  # taking 10 s is a hang. Leak detection stays on (ASan's default).
  if ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1} "$build/tests/fuzz/$fuzzer" \
       -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="$work/$fuzzer/artifacts/" \
       "$work/$fuzzer/corpus" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz $fuzzer: ok, $runs runs in ${seconds}s, $cov, corpus $(ls "$work/$fuzzer/corpus" | wc -l) new"
  else
    status=1
    echo "fuzz $fuzzer: FAILED; artifacts in $work/$fuzzer/artifacts, log $log" >&2
    tail -60 "$log" >&2
  fi
done
exit $status
