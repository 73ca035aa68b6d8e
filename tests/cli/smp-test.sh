#!/bin/sh
# Determinism with several cores (docs/cycle-model.md): for each SMP guest, two runs give
# byte-identical trace events and reports; the fast loop and the traced (single-step) loop count
# the same instructions and cycles on every core; and the guest's own checks pass with any
# quantum, from 1 cycle (cores in lock-step) to 20000.
#   smp-test.sh RUNNER GUEST.elf:CPUS...
set -u
run=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
result() { n=$((n + 1)); if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
# the report without the host's time and speed
report() { grep -vE '^(host time|guest MIPS)' "$1"; }
passes() { [ "$1" -eq 0 ] && grep -q '^ok ' "$2" && ! grep -q '^not ok' "$2"; }

plan=0
for spec in "$@"; do
    case $spec in *:traced) plan=$((plan + 5)) ;; *) plan=$((plan + 4)) ;; esac
done
echo "1..$plan"
for spec in "$@"; do
    traced=no
    case $spec in *:traced) traced=yes; spec=${spec%:traced} ;; esac
    elf=${spec%:*}
    cpus=${spec##*:}
    name="$(basename "$elf" .elf) on $cpus CPUs"
    for r in a b; do
        "$run" --smp="$cpus" --max-cycles=4000000000 --stats --trace-events="$tmp/$r.events" \
            "$elf" >"$tmp/$r.out" 2>"$tmp/$r.report"
        echo $? >"$tmp/$r.status"
    done
    if passes "$(cat "$tmp/a.status")" "$tmp/a.out"; then result ok "$name: the guest's checks pass"
    else result fail "$name: the guest's checks fail (status $(cat "$tmp/a.status"))"; fi
    if [ -f "$tmp/a.events" ] && cmp -s "$tmp/a.events" "$tmp/b.events" &&
        cmp -s "$tmp/a.out" "$tmp/b.out"; then
        result ok "$name: two runs give byte-identical trace events and output"
    else
        result fail "$name: two runs differ"
    fi
    report "$tmp/a.report" >"$tmp/a.r"
    report "$tmp/b.report" >"$tmp/b.r"
    if cmp -s "$tmp/a.r" "$tmp/b.r"; then result ok "$name: two runs report alike"
    else result fail "$name: the reports differ"; fi
    # single-stepping every core (as --trace does) changes nothing the guest can see
    if [ $traced = yes ]; then
        "$run" --smp="$cpus" --max-cycles=4000000000 --stats --trace=/dev/null \
            --trace-events="$tmp/t.events" "$elf" >/dev/null 2>"$tmp/t.report"
        report "$tmp/t.report" >"$tmp/t.r"
        if cmp -s "$tmp/a.r" "$tmp/t.r" && cmp -s "$tmp/a.events" "$tmp/t.events"; then
            result ok "$name: the fast and the traced loop give the same events and counts"
        else
            result fail "$name: the fast and the traced loop differ"
        fi
    fi
    quanta_ok=ok
    bad=
    for q in 1 7 20000; do
        "$run" --smp="$cpus" --smp-quantum="$q" --max-cycles=4000000000 "$elf" >"$tmp/q.out" 2>&1
        passes $? "$tmp/q.out" || { quanta_ok=fail; bad="$bad $q"; }
    done
    if [ $quanta_ok = ok ]; then result ok "$name: passes with quanta of 1, 7 and 20000 cycles"
    else result fail "$name: fails with the quantum of$bad cycles"; fi
done
exit $failed
