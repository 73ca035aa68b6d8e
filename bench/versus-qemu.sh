#!/bin/sh
# The bench guests on libx86irq beside qemu-system-i386 on the same ELF files: QEMU's
# deterministic mode (-icount shift=0,sleep=off: one instruction a nanosecond, no waiting for
# the host's clock in HLT) and plain TCG. Each figure is the best of REPEAT runs of host
# seconds, from start to exit; the last columns are QEMU's time over ours (above 1: we are
# faster). QEMU runs the guest as a Multiboot kernel with isa-debug-exit, as tests/qemu/ does;
# a guest's --smp=N (guests/options) becomes -smp N. A run longer than TIMEOUT seconds (default
# 120) shows as "timeout": plain TCG's timers run on the host's clock, so the timer guest's
# million 1-us ticks and the self-IPI storm take QEMU 7.2 minutes there.
#   bench/versus-qemu.sh [BUILD_DIR] [REPEAT]     (default: build, best of 3)
set -eu
build=${1:-build}
repeat=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
run=$build/tools/x86irq-run
qemu=${QEMU:-qemu-system-i386}
command -v "$qemu" >/dev/null || { echo "versus-qemu.sh: $qemu is not installed (apt-get install qemu-system-x86)" >&2; exit 69; }

now() { date +%s.%N; }
limit=${TIMEOUT:-120}
# best of $repeat: the command's host seconds ("timeout" past TIMEOUT seconds)
best() {
    b=
    i=0
    while [ "$i" -lt "$repeat" ]; do
        start=$(now)
        status=0
        timeout "$limit" "$@" >/dev/null 2>&1 </dev/null || status=$?
        [ $status -eq 124 ] && { echo timeout; return; }
        s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
        if [ -z "$b" ] || awk -v s="$s" -v b="$b" 'BEGIN { exit !(s < b) }'; then b=$s; fi
        i=$((i + 1))
    done
    echo "$b"
}

printf '%-22s %9s %9s %9s %10s %8s\n' guest ours qemu-ic qemu-tcg "icount/us" "tcg/us"
for elf in "$build"/bench/bench-*.elf; do
    name=$(basename "$elf" .elf)
    name=${name#bench-}
    opts=$(awk -v n="$name" '$1 == n { $1 = ""; print }' "$here/guests/options")
    smp=$(printf '%s\n' "$opts" | sed -n 's/.*--smp=\([0-9]*\).*/\1/p')
    # shellcheck disable=SC2086 # opts is a word list
    ours=$(best "$run" $opts --quiet "$elf")
    q="$qemu -smp ${smp:-1} -m 128 -kernel $elf -device isa-debug-exit,iobase=0xf4,iosize=4 -serial null -display none -no-reboot -monitor none"
    # shellcheck disable=SC2086
    icount=$(best $q -icount shift=0,sleep=off)
    # shellcheck disable=SC2086
    tcg=$(best $q)
    awk -v n="$name" -v o="$ours" -v i="$icount" -v t="$tcg" 'BEGIN {
        ri = i == "timeout" ? "-" : sprintf("%.2fx", i / o)
        rt = t == "timeout" ? "-" : sprintf("%.2fx", t / o)
        printf "%-22s %9s %9s %9s %10s %8s\n", n, o, i, t, ri, rt }'
done
