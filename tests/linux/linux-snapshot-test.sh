#!/bin/sh
# Snapshots of a booting Debian kernel (TAP, suite 'linux'): the boot is cut by
# --snapshot-at at two cycles, mid-boot; the earlier snapshot, restored in a fresh process, boots
# on to the same power-off: the snapshot it saves at the later cycle is byte for byte the whole
# boot's, its console output and trace events are exactly the rest of the whole boot's, and it
# ends at the same cycle after the same instructions.
#   linux-snapshot-test.sh X86IRQ_RUN GET_LINUX_SH WORKDIR FLAVOUR CPUS
set -u
run=$1
get_linux=$2
flavour=$4
cpus=$5
work=$3/linux-snapshot-$flavour-$cpus
mkdir -p "$work"
rm -f "$work"/*
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$3', expected '$2')"; fi; }
# is file $2 the end of file $3 (and not empty)?
check_tail() {
    size=$(wc -c < "$2")
    if [ "$size" -gt 0 ] && tail -c "$size" "$3" | cmp -s - "$2"; then
        ok "$1 ($size bytes)"
    else
        not_ok "$1 ($size bytes)"
    fi
}

. "$(dirname "$0")/kit.sh"
require_kit "$get_linux"
kit=$("$get_linux" --print)/$flavour
echo "1..9"
boot() {
    name=$1
    shift
    "$run" --quiet --smp="$cpus" --mem=256M --nic-peer --kernel "$kit/bzImage" \
        --initrd "$kit/initrd.gz" --append "console=ttyS0 quiet" \
        --serial-output="$work/$name.console" --trace-events="$work/$name.events" \
        --report="$work/$name.json" "$@" 2>"$work/$name.err"
    echo $? > "$work/$name.status"
}
boot whole --snapshot-at=1500000000:"$work/early.snap" --snapshot-at=4000000000:"$work/late.snap"
check "the whole boot powers off (exit status 0)" 0 "$(cat "$work/whole.status")"
check "the snapshots are taken" yes "$(test -s "$work/early.snap" && test -s "$work/late.snap" && echo yes)"
echo "# $(ls -l "$work/early.snap" "$work/late.snap" | awk '{ print $5, $9 }' | tr '\n' ' ')"
boot rest --restore="$work/early.snap" --snapshot-at=4000000000:"$work/rest-late.snap"
check "restored, it powers off too" 0 "$(cat "$work/rest.status")"
# the whole machine, not only what it prints: any state the restore lost or the run's caches
# leaked into the guest's time (a rep string cut by a code-cache exit did) shows up here
cmp -s "$work/late.snap" "$work/rest-late.snap"
check "the restored boot's snapshot at cycle 4000000000 is the whole boot's, byte for byte" 0 $?
check_tail "its console output is the rest of the whole boot's" "$work/rest.console" "$work/whole.console"
check_tail "its trace events are the rest of the whole boot's" "$work/rest.events" "$work/whole.events"
grep -q "userspace reached" "$work/rest.console"
check "the rest of the boot reaches userspace" 0 $?
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
check "it ends at the same cycle" "$(field "$work/whole.json" cycles)" "$(field "$work/rest.json" cycles)"
check "after the same instructions" "$(field "$work/whole.json" instructions)" \
    "$(field "$work/rest.json" instructions)"
rm -f "$work"/*.snap
exit $((fails > 0))
