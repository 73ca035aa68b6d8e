#!/bin/sh
# x86irq-run's observability with several CPUs (TAP): --stats counts each vector by CPU and
# splits time by context per CPU, --perfetto has a process per CPU whose tracks nest and only
# go forward in time, --trace-events names the CPU; no latency wraps around (cores' clocks
# differ, events pair on one core); one CPU prints as before. Arguments: RUNNER SMP_IPI_2_ELF
# SMP_IOAPIC_4_ELF TIMER_ELF
run=$1 ipi=$2 ioapic=$3 timer=$4
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..17"
check() { # description, expected status, actual status
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, expected $2)"; failed=1; fi
}
check_grep() { # description, pattern, file
    n=$((n + 1))
    if grep -q -- "$2" "$3"; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$3" | head -5; failed=1; fi
}
check_no_grep() { # description, pattern, file
    n=$((n + 1))
    if ! grep -q -- "$2" "$3"; then echo "ok $n - $1"; else echo "not ok $n - $1"; grep -- "$2" "$3" | sed 's/^/# /' | head -5; failed=1; fi
}
check_py() { # description, then the python program's arguments (program on stdin)
    d=$1; shift
    n=$((n + 1))
    if python3 - "$@" >"$tmp/py" 2>&1; then echo "ok $n - $d"; else echo "not ok $n - $d"; sed 's/^/# /' "$tmp/py" | tail -5; failed=1; fi
}
# the timeline: valid JSON, a process "CPU n" for each CPU, handler slices on CPUS of them,
# and on every track B/E nest and their times never go back
perfetto_check='
import json, sys
doc = json.load(open(sys.argv[1]))
cpus, busy = int(sys.argv[2]), int(sys.argv[3])
names, depth, last, slices = {}, {}, {}, set()
for e in doc["traceEvents"]:
    track = (e["pid"], e["tid"])
    if e["ph"] == "M" and e["name"] == "process_name":
        names[e["pid"]] = e["args"]["name"]
    if e["ph"] in ("B", "E"):
        assert e["ts"] >= last.get(track, 0), "time goes back on %r: %r" % (track, e)
        last[track] = e["ts"]
        depth[track] = depth.get(track, 0) + (1 if e["ph"] == "B" else -1)
        assert depth[track] >= 0, "an E without a B on %r" % (track,)
        if e["ph"] == "B":
            slices.add(e["pid"])
assert sorted(names.values()) == ["CPU %d" % c for c in range(cpus)], names
assert all(d == 0 for d in depth.values()), "slices left open"
assert len(slices) >= busy, "handler slices on %d CPUs" % len(slices)
'
# no latency is a wrapped-around negative number (2^64 - n): every number of the report small
huge_check='
import re, sys
for line in open(sys.argv[1]):
    for number in re.findall(r"\d+", line):
        assert int(number) < 10**12, line
'

"$run" --quiet --smp=2 --max-cycles=4000000000 --stats --check-nesting --perfetto="$tmp/ipi.json" \
    --trace-events="$tmp/ipi.events" "$ipi" >/dev/null 2>"$tmp/ipi.stats"
check "smp-ipi-2 with every sink passes" 0 $?
check_grep "--stats: each vector counted by CPU" "^  *by cpu: 0:[0-9]* 1:[0-9]*$" "$tmp/ipi.stats"
check_grep "--stats: the ping vector ran on CPU 1 only" "by cpu: 0:0 1:1000$" "$tmp/ipi.stats"
check_grep "--stats: a time-by-context table per CPU" "^--- time by context per CPU (cycles) ---" "$tmp/ipi.stats"
check_grep "--stats: CPU 1's row" "^1  *[0-9]*  *[0-9.]*%  *[0-9]*  *[0-9.]*%  *[0-9]*  *[0-9.]*%$" "$tmp/ipi.stats"
check_grep "--stats: handlers on two CPUs at once are not nested" "^deepest nesting  *1$" "$tmp/ipi.stats"
check_grep "--check-nesting: clean" "0 rules fired" "$tmp/ipi.stats"
check_py "--stats: no latency wraps around" "$tmp/ipi.stats" <<PY
$huge_check
PY
n=$((n + 1))
if python3 -m json.tool "$tmp/ipi.json" >/dev/null 2>"$tmp/err"; then echo "ok $n - --perfetto: python3 -m json.tool parses it"; else echo "not ok $n - --perfetto JSON"; sed 's/^/# /' "$tmp/err"; failed=1; fi
check_py "--perfetto: a process per CPU, slices on both, tracks nest in order" "$tmp/ipi.json" 2 2 <<PY
$perfetto_check
PY
check_grep "--trace-events: a cpu column" "^ *[0-9]*  cpu1   handler " "$tmp/ipi.events"
"$run" --quiet --smp=4 --max-cycles=4000000000 --stats --perfetto="$tmp/io.json" "$ioapic" >/dev/null 2>"$tmp/io.stats"
check "smp-ioapic-4 with --stats and --perfetto passes" 0 $?
check_grep "--stats: four CPUs by vector" "by cpu: 0:[0-9]* 1:[0-9]* 2:[0-9]* 3:[0-9]*$" "$tmp/io.stats"
check_py "--perfetto: four CPU processes" "$tmp/io.json" 4 1 <<PY
$perfetto_check
PY
# one CPU: no CPU column, no per-CPU lines
"$run" --quiet --stats --trace-events="$tmp/timer.events" "$timer" >/dev/null 2>"$tmp/timer.stats"
check_no_grep "one CPU: no cpu column in the log" "  cpu0  " "$tmp/timer.events"
check_no_grep "one CPU: no per-CPU lines in --stats" "by cpu\|per CPU" "$tmp/timer.stats"
# determinism with several CPUs
for i in 1 2; do
    "$run" --quiet --smp=2 --max-cycles=4000000000 --stats --trace-events="$tmp/e$i" \
        --perfetto="$tmp/p$i" "$ipi" >/dev/null 2>"$tmp/s$i"
    grep -v -E "^(host time|guest MIPS)" "$tmp/s$i" >"$tmp/t$i"
done
n=$((n + 1))
if cmp -s "$tmp/e1" "$tmp/e2" && cmp -s "$tmp/p1" "$tmp/p2" && cmp -s "$tmp/t1" "$tmp/t2"; then
    echo "ok $n - two SMP runs give identical events, timeline and statistics"
else
    echo "not ok $n - two SMP runs differ"; failed=1
fi
exit $failed
