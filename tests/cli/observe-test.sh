#!/bin/sh
# Tests of x86irq-run's observability options (TAP): --trace-events, --perfetto, --stats
# latency tables, --check-nesting, and determinism. Arguments: RUNNER TIMER_ELF NMI_ELF DEFERRED_WORK_ELF
run=$1 timer=$2 nmi=$3 deferred=$4
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..24"
check() { # description, expected status, actual status
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, expected $2)"; failed=1; fi
}
check_grep() { # description, pattern, file
    n=$((n + 1))
    if grep -q -- "$2" "$3"; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$3" | head -5; failed=1; fi
}
# a Perfetto file parses, its slices begin and end in nesting order, and the deepest nesting
perfetto_check() { # file, expected depth
    python3 - "$1" "$2" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
depth = deepest = 0
for e in events:
    if e["ph"] == "B":
        depth += 1
        deepest = max(deepest, depth)
    elif e["ph"] == "E":
        depth -= 1
        assert depth >= 0, "an E without a B"
assert depth == 0, "slices left open"
assert deepest == int(sys.argv[2]), "deepest nesting %d" % deepest
flows = [e for e in events if e["ph"] in ("s", "f")]
assert flows, "no flow arrows"
starts = {e["id"] for e in events if e["ph"] == "s"}
ends = {e["id"] for e in events if e["ph"] == "f"}
assert starts == ends, "flow arrows without an end (or a start): %d" % len(starts ^ ends)
PY
}

"$run" --quiet --check-nesting "$timer" >"$tmp/out" 2>&1; check "a clean guest passes the nesting check" 0 $?
check_grep "and the checker says so" "0 rules fired" "$tmp/out"
"$run" --quiet --check-nesting "$timer" -- bug >"$tmp/out" 2>&1; check "the planted bug: exit 122" 122 $?
check_grep "the checker names the rule and the stack" "exception-in-irq.*" "$tmp/out"
check_grep "the report names the instruction that raised it (on_tick's int3)" "exception-in-irq) at cycle [0-9]*, 0008:[0-9a-f]* on_tick+" "$tmp/out"
"$run" --quiet --check-nesting=irq-in-irq "$timer" -- bug >"$tmp/out" 2>&1; check "a rule switched off stays quiet" 0 $?
"$run" --check-nesting=bogus "$timer" >"$tmp/out" 2>&1; check "an unknown rule is a usage error" 64 $?
"$run" --quiet --check-nesting "$timer" -- user-bug >"$tmp/out" 2>&1; check "user memory read in a timer handler: exit 122" 122 $?
check_grep "the checker names user-access-in-irq and the address" "address 0x40000000 (user-access-in-irq).*on_tick" "$tmp/out"
check_grep "once per interrupt, and not for the access in process context" "2 rules fired" "$tmp/out"
"$run" --quiet --check-nesting=exception-in-irq,irq-in-irq "$timer" -- user-bug >"$tmp/out" 2>&1; check "with user-access-in-irq off the run passes" 0 $?
"$run" --quiet --perfetto="$tmp/timer.json" "$timer" >/dev/null 2>&1
n=$((n + 1)); if perfetto_check "$tmp/timer.json" 1 2>"$tmp/err"; then echo "ok $n - --perfetto: valid JSON, slices nest and close, flows"; else echo "not ok $n - perfetto"; sed 's/^/# /' "$tmp/err"; failed=1; fi
"$run" --quiet --perfetto="$tmp/nmi.json" "$nmi" >/dev/null 2>&1
n=$((n + 1)); if perfetto_check "$tmp/nmi.json" 2 2>"$tmp/err"; then echo "ok $n - --perfetto: the NMI slice nests inside the timer's"; else echo "not ok $n - perfetto nmi"; sed 's/^/# /' "$tmp/err"; failed=1; fi
"$run" --quiet --stats "$timer" >/dev/null 2>"$tmp/stats"
# accept -> first handler instruction is exactly the modelled delivery cost (60 cycles)
check_grep "--stats: accept->entry equals the delivery cost" "accept->entry  *60  *60  *60  *60  *60" "$tmp/stats"
"$run" --quiet --trace-events="$tmp/events" "$timer" >/dev/null 2>&1
check_grep "--trace-events: handler entries with their instruction" "handler .*\[push" "$tmp/events"
# phases: an interrupt preempting a softirq is allowed; the phase table and track
"$run" --quiet --check-nesting --stats --perfetto="$tmp/dw.json" "$deferred" >/dev/null 2>"$tmp/dw"
check "deferred-work: interrupts nested in softirqs pass the nesting check" 0 $?
check_grep "--stats: the phases table" "^softirq " "$tmp/dw"
check_grep "--perfetto: a phase track" '"name":"softirq"' "$tmp/dw.json"
# phases from symbols when a guest has no markers
"$run" --quiet --stats --phase-symbols='on_tick=immediate,trap_*=critical,kmain=process' "$timer" >/dev/null 2>"$tmp/sym"
check_grep "--phase-symbols: on_tick counted as the immediate phase" "^immediate  *22 " "$tmp/sym"
"$run" --phase-symbols='x=nonsense' "$timer" >"$tmp/out" 2>&1; check "--phase-symbols with an unknown phase is a usage error" 64 $?
# a cost profile: delivery at 500 cycles shows in the latency table
printf '# slow delivery\ndelivery = 500\niret 100\n' >"$tmp/profile"
"$run" --quiet --stats --cost-profile="$tmp/profile" "$timer" >/dev/null 2>"$tmp/stats2"
check_grep "--cost-profile: accept->entry follows the delivery cost" "accept->entry  *500 " "$tmp/stats2"
printf 'warp-drive 3\n' >"$tmp/bad"
"$run" --cost-profile="$tmp/bad" "$timer" >"$tmp/out" 2>&1; check "--cost-profile with an unknown class is a usage error" 64 $?
printf 'delivery 4294967301\n' >"$tmp/wrap"
"$run" --cost-profile="$tmp/wrap" "$timer" >"$tmp/out" 2>&1; check "--cost-profile: 2^32 + 5 cycles is refused, not taken as 5" 64 $?
# determinism: every output of two runs is byte-identical (host time aside)
for i in 1 2; do
    "$run" --quiet --stats --trace-events="$tmp/e$i" --perfetto="$tmp/p$i" "$nmi" >/dev/null 2>"$tmp/s$i"
    grep -v -E "^(host time|guest MIPS)" "$tmp/s$i" >"$tmp/t$i"
done
n=$((n + 1))
if cmp -s "$tmp/e1" "$tmp/e2" && cmp -s "$tmp/p1" "$tmp/p2" && cmp -s "$tmp/t1" "$tmp/t2"; then
    echo "ok $n - two runs give identical events, timeline and statistics"
else
    echo "not ok $n - two runs differ"; failed=1
fi
exit $failed
