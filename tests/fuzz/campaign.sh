#!/bin/sh
# A long fuzzing campaign of one libFuzzer target, for docs/reliability.md's table.
#   tests/fuzz/campaign.sh BUILD_DIR TARGET CPU_SECONDS OUT_DIR [SEED_FILE...] [-- LIBFUZZER_ARGS]
# BUILD_DIR is a -Dlibfuzzer=true build (clang, ASan+UBSan). The campaign runs until the
# fuzzer process has used CPU_SECONDS of CPU (user+system), however loaded the host is, so
# "an hour" means an hour of fuzzing even when the campaign shares its cores at nice 19.
# OUT_DIR gets corpus/ (seeded with the SEED_FILEs), crashes/ (artifacts), log and summary.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 BUILD_DIR TARGET CPU_SECONDS OUT_DIR [SEED...] [-- ARGS]" >&2; exit 64; }
build=$1 target=$2 budget=$3 out=$4
shift 4
bin="$build/tests/fuzz/libfuzzer-$target"
[ -x "$bin" ] || { echo "$0: no $bin (configure with -Dlibfuzzer=true)" >&2; exit 66; }
mkdir -p "$out/corpus" "$out/crashes"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    cp "$1" "$out/corpus/seed-$(basename "$1")"
    shift
done
[ $# -gt 0 ] && shift
ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS
start=$(date +%s)
# -max_total_time is wall time: give it far more and stop on CPU time below.
nice -n 19 "$bin" "$out/corpus" -artifact_prefix="$out/crashes/" -max_total_time=$((budget * 20)) \
    -print_final_stats=1 "$@" > "$out/log" 2>&1 &
pid=$!
ticks=$(getconf CLK_TCK)
cpu=0
while kill -0 "$pid" 2>/dev/null; do
    # fields 14 and 15 of /proc/PID/stat: user and system time in clock ticks
    cpu=$(awk -v t="$ticks" '{ printf "%d", ($14 + $15) / t }' "/proc/$pid/stat" 2>/dev/null || echo "$cpu")
    [ "$cpu" -ge "$budget" ] && { kill -INT "$pid"; break; }
    sleep 5
done
status=0
wait "$pid" || status=$?
end=$(date +%s)
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/log" | grep -o '[0-9]*$' || true)
last=$(grep -E '^#[0-9]+' "$out/log" | tail -1)
crashes=$(ls "$out/crashes" | wc -l)
{
    echo "target: $target"
    echo "date: $(date -u -d "@$start" +%Y-%m-%d)"
    echo "cpu_seconds: $cpu"
    echo "wall_seconds: $((end - start))"
    echo "executions: ${execs:-unknown}"
    echo "last_status_line: $last"
    echo "corpus_files: $(ls "$out/corpus" | wc -l)"
    echo "crash_artifacts: $crashes"
    echo "fuzzer_exit: $status"
} | tee "$out/summary"
[ "$crashes" -eq 0 ]
