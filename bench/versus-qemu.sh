#!/bin/sh
# The bench guests on libx86irq beside QEMU on the same ELF files: qemu-system-i386 for the
# 32-bit guests, qemu-system-x86_64 for the long-mode ones (bench-*64.elf, built on
# examples/guests/lib64). QEMU's deterministic mode (-icount shift=0,sleep=off: one instruction
# a nanosecond, no waiting for the host's clock in HLT) and plain TCG. Each figure is the best
# of REPEAT runs of host seconds, from start to exit; the last columns are QEMU's time over ours
# (above 1: we are faster). QEMU runs the guest as a Multiboot kernel with isa-debug-exit, as
# tests/qemu/ does; a guest's --smp=N (guests/options) becomes -smp N. A run longer than TIMEOUT
# seconds (default 120) shows as "timeout": plain TCG's timers run on the host's clock, so the
# timer guest's million 1-us ticks and the self-IPI storm take QEMU 7.2 minutes there. A run
# whose guest reports a failure (a nonzero debug-exit value: status other than 0 on ours, other
# than 1 on QEMU) shows as "fail:STATUS".
#   bench/versus-qemu.sh [BUILD_DIR] [REPEAT]     (default: build, best of 3)
# Environment: QEMU (default qemu-system-i386), QEMU64 (default qemu-system-x86_64), TIMEOUT,
# GUESTS (a shell pattern for the guest names, e.g. '*64'; default all).
set -eu
build=${1:-build}
repeat=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
run=$build/tools/x86irq-run
qemu32=${QEMU:-qemu-system-i386}
qemu64=${QEMU64:-qemu-system-x86_64}
pattern=${GUESTS:-*}
for q in "$qemu32" "$qemu64"; do
    command -v "$q" >/dev/null || { echo "versus-qemu.sh: $q is not installed (apt-get install qemu-system-x86)" >&2; exit 69; }
done

now() { date +%s.%N; }
limit=${TIMEOUT:-120}
# best of $repeat: the command's host seconds ("timeout" past TIMEOUT seconds, "fail:STATUS"
# when it does not exit with the status given first: 0 on ours, 1 on QEMU's isa-debug-exit)
best() {
    expect=$1
    shift
    b=
    i=0
    while [ "$i" -lt "$repeat" ]; do
        start=$(now)
        status=0
        timeout "$limit" "$@" >/dev/null 2>&1 </dev/null || status=$?
        [ $status -eq 124 ] && { echo timeout; return; }
        [ $status -eq "$expect" ] || { echo "fail:$status"; return; }
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
    # shellcheck disable=SC2254 # the pattern is a pattern
    case $name in $pattern) ;; *) continue ;; esac
    case $name in *64) qemu=$qemu64 ;; *) qemu=$qemu32 ;; esac
    opts=$(awk -v n="$name" '$1 == n { $1 = ""; print }' "$here/guests/options")
    smp=$(printf '%s\n' "$opts" | sed -n 's/.*--smp=\([0-9]*\).*/\1/p')
    # shellcheck disable=SC2086 # opts is a word list
    ours=$(best 0 "$run" $opts --quiet "$elf")
    q="$qemu -smp ${smp:-1} -m 128 -kernel $elf -device isa-debug-exit,iobase=0xf4,iosize=4 -serial null -display none -no-reboot -monitor none"
    # shellcheck disable=SC2086
    icount=$(best 1 $q -icount shift=0,sleep=off)
    # shellcheck disable=SC2086
    tcg=$(best 1 $q)
    awk -v n="$name" -v o="$ours" -v i="$icount" -v t="$tcg" 'BEGIN {
        bad = o !~ /^[0-9.]+$/
        ri = bad || i !~ /^[0-9.]+$/ ? "-" : sprintf("%.2fx", i / o)
        rt = bad || t !~ /^[0-9.]+$/ ? "-" : sprintf("%.2fx", t / o)
        printf "%-22s %9s %9s %9s %10s %8s\n", n, o, i, t, ri, rt }'
done
