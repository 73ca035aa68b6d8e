#!/bin/sh
# Runs every SMP guest test (tests/guests/smp-*.c, built by meson as
# BUILD/tests/guests/<name>.elf) under qemu-system-i386, the reference, with the -smp its
# entry in smp_guest_tests (tests/guests/meson.build) names, plus one-CPU runs that must
# report a TAP skip (or pass, where one CPU makes sense). Builds nothing.
# Prints TAP: one line per run with the guest's own counts; -v shows each guest's output.
# Usage: tests/qemu/smp-on-qemu.sh [-v] [BUILD_DIR]   (default: ./build)
# Environment: QEMU (default qemu-system-i386), TIMEOUT seconds per run (default 60), ACCEL
# (e.g. tcg,thread=single or tcg,thread=multi; default QEMU's own choice).
verbose=0
if [ "$1" = "-v" ]; then verbose=1; shift; fi
build=${1:-build}
qemu=${QEMU:-qemu-system-i386}
limit=${TIMEOUT:-60}
dir="$build/tests/guests"

# name (the ELF) | -smp | guest arguments (-append) | extra QEMU devices
runs='
smp-start-1|1||
smp-start-2|2||
smp-start-4|4||
smp-start-broadcast-2|2|broadcast|
smp-start-broadcast-4|4|broadcast|
smp-ipi-2|2||
smp-ipi-4|4||
smp-ipi-2|1||
smp-lowest-4|4||
smp-lowest-4|2||
smp-nmi-2|2||
smp-nmi-2|1||
smp-ioapic-2|2||-device pc-testdev
smp-ioapic-4|4||-device pc-testdev
smp-ioapic-2|1||-device pc-testdev
smp-lock-1|1||
smp-lock-2|2||
smp-lock-4|4||
smp-tlb-2|2||
smp-tlb-2|1||
smp-smc-2|2||
smp-smc-2|1||
smp-init-2|2||
smp-init-2|1||
smp-tsc-2|2||
smp-tsc-4|4||
smp-tsc-2|1||
smp-x2apic-2|2||
'

if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "1..0 # SKIP $qemu not found"
    exit 0
fi
total=$(printf '%s\n' "$runs" | grep -c '|')
echo "1..$total"
n=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
while IFS='|' read -r name smp args devices; do
    [ -n "$name" ] || continue
    n=$((n + 1))
    elf="$dir/$name.elf"
    what="$name (-smp $smp${args:+, -append $args})"
    if [ ! -f "$elf" ]; then
        echo "not ok $n - $what: $elf not built"
        failed=$((failed + 1))
        continue
    fi
    start=$(date +%s%N)
    # shellcheck disable=SC2086 # devices is a word list
    timeout "$limit" "$qemu" ${ACCEL:+-accel "$ACCEL"} -smp "$smp" -m 64 -kernel "$elf" ${args:+-append "$args"} \
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
[ "$failed" = 0 ]
