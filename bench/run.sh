#!/bin/sh
# Run the benchmark guests and print guest MIPS (from x86irq-run --stats).
#   bench/run.sh [BUILD_DIR]     (default: build)
set -eu
build=${1:-build}
for elf in "$build"/bench/bench-*.elf; do
    name=$(basename "$elf" .elf)
    out=$("$build/tools/x86irq-run" --stats "$elf" 2>&1)
    mips=$(printf '%s\n' "$out" | awk '/guest MIPS/ {print $3}')
    insns=$(printf '%s\n' "$out" | awk '/^instructions/ {print $2}')
    secs=$(printf '%s\n' "$out" | awk '/host time/ {print $3}')
    events=$(printf '%s\n' "$out" | awk '/ events / {print $3}')
    line=$(printf '%-16s %12s instructions  %8s s  %8s guest MIPS' "${name#bench-}" "$insns" "$secs" "$mips")
    if [ -n "$events" ]; then
        line="$line  $(awk -v e="$events" -v s="$secs" 'BEGIN { printf "%.2f M delivered events/s", e / s / 1e6 }')"
    fi
    echo "$line"
done
