#!/bin/sh
# Run the benchmark guests: guest MIPS and, for the storms, delivered events per second.
#   bench/run.sh [BUILD_DIR] [REPEAT]     (default: build, best of 3)
# The long-mode guests (bench-*64.elf: compute64 is compute built as 64-bit code) run beside
# the 32-bit ones. GUESTS: a shell pattern for the guest names (e.g. '*64'; default all).
# A guest that reports a failure (a nonzero exit) stops the script.
# The instruction and event counts come from one run with --stats; the time is the best of
# REPEAT plain runs (--stats subscribes to every trace event, which costs time of its own:
# the last column shows a --stats run's host time for comparison).
set -eu
build=${1:-build}
repeat=${2:-3}
run=$build/tools/x86irq-run
pattern=${GUESTS:-*}
here=$(cd "$(dirname "$0")" && pwd)

now() { date +%s.%N; }

for elf in "$build"/bench/bench-*.elf; do
    name=$(basename "$elf" .elf)
    # shellcheck disable=SC2254 # the pattern is a pattern
    case ${name#bench-} in $pattern) ;; *) continue ;; esac
    # shellcheck disable=SC2046 # the options are words
    set -- $(awk -v n="${name#bench-}" '$1 == n { $1 = ""; print }' "$here/guests/options")
    out=$("$run" "$@" --stats "$elf" 2>&1)
    insns=$(printf '%s\n' "$out" | awk '/^instructions/ {print $2}')
    stats_secs=$(printf '%s\n' "$out" | awk '/host time/ {print $3}')
    events=$(printf '%s\n' "$out" | awk '/ events / {print $3}')
    best=
    i=0
    while [ "$i" -lt "$repeat" ]; do
        start=$(now)
        "$run" "$@" --quiet "$elf" >/dev/null
        secs=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
        if [ -z "$best" ] || awk -v s="$secs" -v b="$best" 'BEGIN { exit !(s < b) }'; then
            best=$secs
        fi
        i=$((i + 1))
    done
    line=$(awk -v n="${name#bench-}" -v i="$insns" -v s="$best" \
        'BEGIN { printf "%-22s %12s instructions  %7s s  %7.1f guest MIPS", n, i, s, i / s / 1e6 }')
    if [ -n "$events" ]; then
        line="$line  $(awk -v e="$events" -v s="$best" 'BEGIN { printf "%6.2f M events/s", e / s / 1e6 }')"
    fi
    echo "$line  (--stats run: $stats_secs s)"
done
