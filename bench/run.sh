#!/bin/sh
# Run the benchmark guests and print guest MIPS (from x86irq-run --stats).
#   bench/run.sh [BUILD_DIR]     (default: build)
set -eu
build=${1:-build}
for elf in "$build"/bench/bench-*.elf; do
    name=$(basename "$elf" .elf)
    report=$("$build/tools/x86irq-run" --stats "$elf" 2>&1 >/dev/null)
    mips=$(printf '%s\n' "$report" | awk '/guest MIPS/ {print $3}')
    insns=$(printf '%s\n' "$report" | awk '/^instructions/ {print $2}')
    secs=$(printf '%s\n' "$report" | awk '/host time/ {print $3}')
    printf '%-16s %12s instructions  %8s s  %8s guest MIPS\n' "${name#bench-}" "$insns" "$secs" "$mips"
done
