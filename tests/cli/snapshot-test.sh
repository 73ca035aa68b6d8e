#!/bin/sh
# x86irq-run --snapshot-at / --restore (TAP). The property (docs/debugging.md, "Snapshots"): a
# run cut at cycle C by a snapshot is the uninterrupted run; restored from that snapshot in a
# fresh process, it goes on exactly as the uninterrupted run went on: its trace events and
# serial output are the rest of that run's, and it ends with the same status. Guests: the
# timer, nic-bottom-half with generated traffic (the host's pending frame is rebound), with
# interrupt throttling, deferred-work (cut inside a nested handler), two and four CPUs. Then
# bad snapshots and options: clear errors.
# Arguments: RUNNER TIMER_ELF NIC_ELF DEFERRED_ELF SMP_IPI_2_ELF SMP_IOAPIC_4_ELF
run=$1 timer=$2 nic=$3 deferred=$4 ipi2=$5 ioapic4=$6
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..47"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { # description, expected, actual
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$3', expected '$2')"; fi
}
same() { # description, file, file
    if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1"; diff "$2" "$3" | head -5 | sed 's/^/# /'; fi
}

# property NAME CYCLE OPTIONS... GUEST [-- ARGS]: four runs and four checks
property() {
    name=$1 cycle=$2
    shift 2
    d="$tmp/$name"
    mkdir "$d"
    "$run" --quiet --trace-events="$d/all.ev" --serial-output="$d/all.out" "$@" 2>/dev/null
    whole=$?
    "$run" --quiet --trace-events="$d/cut.ev" --serial-output="$d/cut.out" \
        --snapshot-at="$cycle:$d/snap" "$@" 2>/dev/null
    cut=$?
    "$run" --quiet --trace-events="$d/head.ev" --serial-output="$d/head.out" \
        --max-cycles="$cycle" "$@" 2>/dev/null
    "$run" --quiet --trace-events="$d/tail.ev" --serial-output="$d/tail.out" \
        --restore="$d/snap" "$@" 2>/dev/null
    restored=$?
    cat "$d/all.ev" "$d/all.out" >"$d/all"
    cat "$d/cut.ev" "$d/cut.out" >"$d/cut"
    cat "$d/head.ev" "$d/tail.ev" "$d/head.out" "$d/tail.out" >"$d/joined"
    check "$name: the snapshot is taken (cycle $cycle)" yes "$(test -s "$d/snap" && echo yes)"
    same "$name: cutting the run changes nothing" "$d/all" "$d/cut"
    same "$name: restored, it goes on as the whole run went on" "$d/all" "$d/joined"
    check "$name: the same exit status ($whole)" "$whole" "$restored"
}

property timer 9000000 "$timer"
property nic 3000000 --check-nesting --nic-traffic=20000,64,40 "$nic"
property nic-itr 2500001 --nic-traffic=20000,64,40 "$nic" -- itr
# inside a nested handler: the nesting depth goes on from the snapshot
property deferred 1000000 "$deferred"
property smp-ipi-2 3000000 --smp=2 "$ipi2"
property smp-ioapic-4 2500000 --smp=4 "$ioapic4"

# several snapshots in one run; a restored run takes snapshots of its own
"$run" --quiet --snapshot-at=12000000:"$tmp/t12" --snapshot-at=6000000:"$tmp/t6" "$timer" 2>/dev/null
check "two --snapshot-at in any order" "yes" "$(test -s "$tmp/t6" -a -s "$tmp/t12" && echo yes)"
"$run" --quiet --restore="$tmp/t6" --snapshot-at=12000000:"$tmp/t12b" "$timer" 2>/dev/null
same "a snapshot taken after a restore is the one the whole run took" "$tmp/t12" "$tmp/t12b"

# periodic snapshots, the later ones deltas against the first: the run unchanged, the deltas
# small, a delta restored over its base goes on as the whole run went on
d="$tmp/every"
mkdir "$d"
traffic=--nic-traffic=20000,64,40
"$run" --trace-events="$d/cut.ev" --serial-output="$d/cut.out" $traffic \
    --snapshot-every=2000000:"$d/p" --snapshot-delta "$nic" >/dev/null 2>"$d/err"
cat "$d/cut.ev" "$d/cut.out" >"$d/cut"
same "nic, a snapshot every 2000000 cycles, deltas: the run changes nothing" "$tmp/nic/all" "$d/cut"
check "the snapshots are named by their cycle" yes \
    "$(test -s "$d/p-0.snap" -a -s "$d/p-2000000.snap" -a -s "$d/p-6000000.snap" && echo yes)"
check "stderr says which are deltas" yes "$(grep -q 'p-6000000.snap (a delta)' "$d/err" && echo yes)"
whole_size=$(wc -c <"$d/p-2000000.snap") delta_size=$(wc -c <"$d/p-6000000.snap")
check "a delta is smaller than a whole snapshot ($delta_size < $whole_size bytes)" yes \
    "$(test "$delta_size" -lt "$whole_size" && echo yes)"
"$run" --quiet --trace-events="$d/head.ev" --serial-output="$d/head.out" --max-cycles=6000000 \
    $traffic "$nic" 2>/dev/null
"$run" --quiet --trace-events="$d/tail.ev" --serial-output="$d/tail.out" $traffic \
    --restore="$d/p-6000000.snap" --restore-base="$d/p-0.snap" "$nic" 2>/dev/null
check "the delta restored over its base: the run's status" 0 $?
cat "$d/head.ev" "$d/tail.ev" "$d/head.out" "$d/tail.out" >"$d/joined"
same "... and it goes on as the whole run went on" "$tmp/nic/all" "$d/joined"
"$run" --quiet $traffic --restore="$d/p-6000000.snap" "$nic" >/dev/null 2>"$d/err"
check "a delta without its base: refused (65), saying so" "65 yes" "$? $(grep -q 'delta' "$d/err" && echo yes)"
"$run" --quiet $traffic --restore="$d/p-6000000.snap" --restore-base="$tmp/nic/snap" "$nic" \
    >/dev/null 2>"$d/err"
check "a delta over another base: refused (65)" "65 yes" "$? $(grep -q 'another base' "$d/err" && echo yes)"
"$run" --quiet --snapshot-every=0:"$d/q" "$timer" >/dev/null 2>&1
check "--snapshot-every=0: usage error" 64 $?
"$run" --quiet --snapshot-delta --restore-base="$d/p-0.snap" "$timer" >/dev/null 2>&1
check "--snapshot-delta or --restore-base alone: usage error" 64 $?

# bad snapshots and options
snap="$tmp/timer/snap"
head -c 1000 "$snap" >"$tmp/short"
"$run" --quiet --restore="$tmp/short" "$timer" >/dev/null 2>"$tmp/err"
check "a truncated snapshot: load error (65)" 65 $?
check "... that says so" yes "$(grep -q 'truncated' "$tmp/err" && echo yes)"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 4; open(sys.argv[2], "wb").write(b)' "$snap" "$tmp/damaged"
"$run" --quiet --restore="$tmp/damaged" "$timer" >/dev/null 2>"$tmp/err"
check "a damaged snapshot: load error (65), by its checksum" "65 yes" "$? $(grep -q 'checksum' "$tmp/err" && echo yes)"
"$run" --quiet --restore="$snap" "$deferred" >/dev/null 2>"$tmp/err"
check "another guest's snapshot: refused (its symbols)" "65 yes" "$? $(grep -q 'symbols' "$tmp/err" && echo yes)"
"$run" --quiet --smp=2 --restore="$snap" "$timer" >/dev/null 2>"$tmp/err"
check "another configuration (two CPUs): refused" "65 yes" "$? $(grep -q 'CPUs' "$tmp/err" && echo yes)"
"$run" --quiet --restore="$tmp/none" "$timer" >/dev/null 2>&1
check "a missing snapshot: I/O error (74)" 74 $?
"$run" --quiet --nic-traffic=20000,64,40 --snapshot-at=1000000:"$tmp/nic1" "$nic" >/dev/null 2>&1
"$run" --quiet --restore="$tmp/nic1" "$nic" >/dev/null 2>"$tmp/err"
check "the NIC traffic not given again: usage error, saying which option" "64 yes" "$? $(grep -q 'nic-traffic' "$tmp/err" && echo yes)"
"$run" --quiet --snapshot-at=100:"$tmp/nodir/x" "$timer" >/dev/null 2>&1
check "an unwritable snapshot: I/O error (74)" 74 $?
"$run" --quiet --snapshot-at=100 "$timer" >/dev/null 2>&1
check "--snapshot-at without a file: usage error" 64 $?
"$run" --quiet --snapshot-at=99999999999:"$tmp/late" "$timer" >/dev/null 2>"$tmp/err"
check "a cycle the run never reaches: said, the run's own status" "0 yes" "$? $(grep -q 'not taken' "$tmp/err" && echo yes)"
"$run" --quiet --restore="$snap" --gdb=tcp::0 "$timer" >/dev/null 2>&1
check "--restore with --gdb: usage error (monitor restore is gdb's)" 64 $?
exit $failed
