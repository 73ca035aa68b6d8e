#!/bin/sh
# Runs the SSE guest tests (BUILD/tests/guests/sse-*.elf) under qemu-system-i386 -cpu max
# (TCG), the reference, without the argument "strict": the checks where QEMU differs from the
# SDM report a TAP skip naming the difference; the XSAVE guests also with -cpu max,xsave=off
# (their FXSAVE-only paths). Builds nothing.
# Usage: tests/qemu/sse-on-qemu.sh [-v] [BUILD_DIR]   (default: ./build)
# Environment: QEMU (default qemu-system-i386), TIMEOUT seconds per run (default 60).
verbose=0
if [ "$1" = "-v" ]; then verbose=1; shift; fi
build=${1:-build}
qemu=${QEMU:-qemu-system-i386}
limit=${TIMEOUT:-60}
dir="$build/tests/guests"
# name (the ELF) | the guest's arguments (commas for spaces) | the -cpu model
runs='
sse-float||max
sse-float|sse41|max
sse-state||max
sse-state||max,xsave=off
sse-lazy||max
sse-lazy||max,xsave=off
'
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "1..0 # SKIP $qemu not found"
    exit 0
fi
echo "1..$(printf '%s\n' "$runs" | grep -c '|')"
n=0
failed=0
out=$(mktemp)
for run in $runs; do
    name=${run%%|*}
    rest=${run#*|}
    args=$(printf '%s' "${rest%%|*}" | tr ',' ' ')
    model=${rest#*|}
    n=$((n + 1))
    timeout "$limit" "$qemu" -cpu "$model" -kernel "$dir/$name.elf" -append "$name $args" \
        -nographic -no-reboot -display none -serial stdio -monitor none \
        -device isa-debug-exit,iobase=0xf4,iosize=4 >"$out" 2>&1 </dev/null
    [ "$verbose" = 1 ] && cat "$out"
    bad=$(grep -c '^not ok' "$out")
    good=$(grep -c '^ok' "$out")
    skips=$(grep -c '# SKIP' "$out")
    if [ "$bad" = 0 ] && [ "$good" -gt 0 ]; then
        echo "ok $n - $name $args (-cpu $model): $good ok ($skips skipped: where QEMU differs from the SDM, or what the model lacks)"
    else
        echo "not ok $n - $name $args (-cpu $model): $good ok, $bad not ok"
        failed=1
    fi
done
rm -f "$out"
exit $failed
