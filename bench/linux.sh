#!/bin/sh
# Boot to power-off of Debian's kernel (the kit of scripts/get-linux.sh: 686, 686-pae or
# amd64), libx86irq beside QEMU TCG (qemu-system-i386, or qemu-system-x86_64 for amd64) with
# the same files, the same command line and the same /init (which pings 10.0.2.2: our
# --nic-peer, QEMU's user-mode network). Prints each run's host seconds and the median of
# REPEAT runs; QEMU's row only when it is installed. CPUS > 1 boots both with that many
# processors (--smp / -smp).
#   bench/linux.sh [BUILD_DIR] [FLAVOUR] [REPEAT] [CPUS]     (default: build 686 3 1)
set -eu
build=${1:-build}
flavour=${2:-686}
repeat=${3:-3}
cpus=${4:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
run=$build/tools/x86irq-run
kit=$("$here/scripts/get-linux.sh" --print)/$flavour
[ -s "$kit/bzImage" ] || { echo "linux.sh: no kit: run scripts/get-linux.sh" >&2; exit 69; }
cmdline="console=ttyS0 quiet"

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

measure() {
    name=$1
    shift
    times=
    i=0
    while [ "$i" -lt "$repeat" ]; do
        start=$(now)
        "$@" >/tmp/x86irq-bench-linux.log 2>&1 </dev/null || true
        secs=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
        grep -q "powering off" /tmp/x86irq-bench-linux.log ||
            echo "linux.sh: $name run $i did not reach the power-off" >&2
        times="$times $secs"
        i=$((i + 1))
    done
    m=$(for t in $times; do echo "$t"; done | median)
    printf '%-34s median %7s s   runs:%s\n' "$name" "$m" "$times"
}

echo "boot to power-off, Debian $(cat "$kit/VERSION"), $cpus CPU(s), $repeat runs each (host seconds)"
measure "libx86irq ($build)" "$run" --smp="$cpus" --mem=256M --nic-peer --kernel "$kit/bzImage" \
    --initrd "$kit/initrd.gz" --append "$cmdline"
case $flavour in amd64) qemu=qemu-system-x86_64 ;; *) qemu=qemu-system-i386 ;; esac
if command -v $qemu >/dev/null 2>&1; then
    measure "$qemu $($qemu --version | sed -n '1s/.*version \([^ ]*\).*/\1/p') TCG" \
        $qemu -smp "$cpus" -m 256 -kernel "$kit/bzImage" -initrd "$kit/initrd.gz" \
        -append "$cmdline" -nographic -no-reboot -monitor none \
        -netdev user,id=n0 -device e1000,netdev=n0
fi
rm -f /tmp/x86irq-bench-linux.log
