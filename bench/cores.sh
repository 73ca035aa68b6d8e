#!/bin/sh
# The cost of processors that exist but sleep: the compute guest (which starts no AP) and the
# interrupt storm with 1 to 64 CPUs, the APs waiting for SIPI all along. Best of REPEAT runs;
# the goal (issue "Many cores") is a cost that grows with the cores that run, not with the
# cores that exist.
#   bench/cores.sh [BUILD_DIR] [REPEAT]     (default: build, best of 3)
set -eu
build=${1:-build}
repeat=${2:-3}
run=$build/tools/x86irq-run
now() { date +%s.%N; }
printf '%-18s' guest
for n in 1 2 4 16 64; do printf ' %9s' "--smp=$n"; done
echo
for g in compute interrupt-storm; do
    printf '%-18s' "$g"
    for n in 1 2 4 16 64; do
        best=
        i=0
        while [ "$i" -lt "$repeat" ]; do
            start=$(now)
            "$run" --smp="$n" --quiet "$build/bench/bench-$g.elf" >/dev/null
            s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
            if [ -z "$best" ] || awk -v s="$s" -v b="$best" 'BEGIN { exit !(s < b) }'; then best=$s; fi
            i=$((i + 1))
        done
        printf ' %8ss' "$best"
    done
    echo
done
