#!/bin/sh
# Runs every long-mode guest test (tests/guests/lm-*.c, built by meson as
# BUILD/tests/guests/<name>.elf) under qemu-system-x86_64 (TCG), the reference: once with
# -cpu max and once with QEMU's default qemu64 model (no 1 GiB pages there, for one). The
# guests run without the argument "strict", so the checks where QEMU differs from the SDM
# report a TAP skip naming the difference. Builds nothing.
# Prints TAP: one line per run with the guest's own counts; -v shows each guest's output.
# Usage: tests/qemu/longmode-on-qemu.sh [-v] [BUILD_DIR]   (default: ./build)
# Environment: QEMU (default qemu-system-x86_64), TIMEOUT seconds per run (default 60), CPUS
# (the -cpu models, default "max qemu64"), GUEST_ARGS (e.g. strict, to see what QEMU fails).
verbose=0
if [ "$1" = "-v" ]; then verbose=1; shift; fi
build=${1:-build}
qemu=${QEMU:-qemu-system-x86_64}
limit=${TIMEOUT:-60}
cpus=${CPUS:-max qemu64}
dir="$build/tests/guests"

# name (the ELF) | extra QEMU devices
runs='
lm-activation|
lm-canonical|
lm-paging|
lm-gates|
lm-ist|
lm-syscall|
lm-compat|
lm-cr8|
'

if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "1..0 # SKIP $qemu not found"
    exit 0
fi
names=$(printf '%s\n' "$runs" | grep -c '|')
set -- $cpus
echo "1..$((names * $#))"
n=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for cpu in $cpus; do
    while IFS='|' read -r name devices; do
        [ -n "$name" ] || continue
        n=$((n + 1))
        elf="$dir/$name.elf"
        what="$name (-cpu $cpu)"
        if [ ! -f "$elf" ]; then
            echo "not ok $n - $what: $elf not built"
            failed=$((failed + 1))
            continue
        fi
        start=$(date +%s%N)
        # shellcheck disable=SC2086 # devices is a word list
        timeout "$limit" "$qemu" -accel tcg -cpu "$cpu" -m 64 -kernel "$elf" \
            ${GUEST_ARGS:+-append "$GUEST_ARGS"} \
            -device isa-debug-exit,iobase=0xf4,iosize=4 $devices \
            -serial stdio -display none -no-reboot -monitor none </dev/null >"$out" 2>&1
        status=$?
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        [ "$verbose" = 1 ] && sed 's/^/    /' "$out"
        plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$out" | head -n 1)
        passed=$(grep -c '^ok ' "$out")
        notok=$(grep -c '^not ok ' "$out")
        skipped=$(grep -ci '^ok [0-9]* - .*# skip' "$out")
        # isa-debug-exit: QEMU exits with (value << 1) | 1; the guests write 0 when all passed
        if grep -qi '^1\.\.0 # skip' "$out" && [ "$status" = 1 ]; then
            echo "ok $n - $what # SKIP $(sed -n 's/^1\.\.0 # [Ss][Kk][Ii][Pp] *//p' "$out")"
        elif [ "$status" = 1 ] && [ -n "$plan" ] && [ "$notok" = 0 ] && [ "$passed" = "$plan" ]; then
            echo "ok $n - $what: $passed/$plan passed ($skipped skipped), ${ms} ms"
        else
            echo "not ok $n - $what: exit $status, plan ${plan:-none}, $passed ok, $notok not ok, ${ms} ms"
            failed=$((failed + 1))
            grep '^not ok \|^# ' "$out" | sed 's/^/# /'
            [ "$verbose" = 1 ] || tail -n 3 "$out" | sed 's/^/#   | /'
        fi
    done <<EOF
$runs
EOF
done
[ "$failed" = 0 ]
