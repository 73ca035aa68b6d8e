#!/bin/sh
# x86irq-run --report=FILE.json (TAP): the run report parses as JSON with its schema's members;
# exceptions carry their class (fault, trap, abort); the nesting summary and exit status agree
# with the run; two runs' reports are the same but for the host's time; --stats labels the
# classes too; an unwritable report is an I/O error.
# Arguments: RUNNER TIMER_ELF BREAKPOINT_ELF PAGE_FAULT_ELF DOUBLE_FAULT_ELF
run=$1 timer=$2 breakpoint=$3 pagefault=$4 doublefault=$5
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..12"
check() { # description, expected, actual
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (got '$3', expected '$2')"; failed=1; fi
}
# a Python expression on the report (r) must be true
check_json() { # description, file, expression
    n=$((n + 1))
    if python3 - "$2" "$3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v = {x["vector"]: x for x in r["vectors"]}
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
    then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$2" | cut -c1-200 | head -5; failed=1; fi
}

"$run" --quiet --report="$tmp/timer.json" "$timer" >/dev/null 2>&1
check "the timer guest runs with --report" 0 $?
check_json "the schema, the stop and the counts" "$tmp/timer.json" \
    'r["schema"] == "x86irq-run-report/1" and r["stop_reason"] == "debug-exit" and r["exit_status"] == 0 and r["instructions"] > 0 and r["cycles"] == r["cpus"][0]["cycles"]'
check_json "the PIT's vector: 11 interrupts from IOAPIC pin 2, with latency percentiles" "$tmp/timer.json" \
    'v[0x30]["class"] == "interrupt" and v[0x30]["count"] == 11 and v[0x30]["ioapic_pins"] == [2] and v[0x30]["latency_cycles"]["accept_to_entry"]["p50"] > 0'
check_json "time by context adds up to the cycles run" "$tmp/timer.json" \
    'sum(c["process"] + c["interrupt"] + c["exception"] for c in r["context_cycles"]) == r["cycles"]'
"$run" --quiet --report="$tmp/again.json" "$timer" >/dev/null 2>&1
check_json "two runs report alike but for the host's time" "$tmp/timer.json" \
    '(lambda o: r.keys() == o.keys() and all(r[k] == o[k] for k in r if k not in ("host_seconds", "guest_mips", "host_max_rss_kib")))(json.load(open("'"$tmp/again.json"'")))'
"$run" --quiet --report="$tmp/bp.json" "$breakpoint" >/dev/null 2>&1
check_json "#BP is a trap" "$tmp/bp.json" 'v[3]["name"] == "#BP" and v[3]["class"] == "trap"'
"$run" --quiet --report="$tmp/pf.json" "$pagefault" >/dev/null 2>&1
check_json "#PF is a fault" "$tmp/pf.json" 'v[14]["class"] == "fault" and v[14]["count"] >= 1'
"$run" --quiet --report="$tmp/df.json" "$doublefault" >/dev/null 2>&1
check_json "#DF is an abort" "$tmp/df.json" 'v[8]["class"] == "abort"'
"$run" --quiet --check-nesting --report="$tmp/bug.json" "$timer" -- bug >/dev/null 2>&1
check "the planted nesting bug: status 122" 122 $?
check_json "the report has the same status and the rule that fired" "$tmp/bug.json" \
    'r["exit_status"] == 122 and r["nesting"]["checked"] and r["nesting"]["rules_fired"] >= 1'
"$run" --quiet --stats "$breakpoint" >/dev/null 2>"$tmp/stats"
n=$((n + 1))
if grep -q "^#BP trap " "$tmp/stats"; then echo "ok $n - --stats labels #BP a trap"; else echo "not ok $n - --stats labels #BP a trap"; failed=1; fi
"$run" --quiet --report="$tmp" "$timer" >/dev/null 2>&1
check "a report that cannot be written is an I/O error" 74 $?
exit $failed
