#!/bin/sh
# Tests of x86irq-run's observability with 64-bit guest addresses (TAP): --symbols with an
# amd64-style System.map (16-digit addresses), --phase-symbols probing 64-bit code above 4 GiB,
# and --trace, --trace-events, --stats and --perfetto reporting the full RIP. The guest is lm-paging,
# which calls "mov eax, 0x1234; ret" at 0x0000123400006000 through page tables of its own.
# Arguments: RUNNER LM_PAGING_ELF
run=$1 guest=$2
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..8"
check() { # description, expected status, actual status
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, expected $2)"; failed=1; fi
}
check_grep() { # description, pattern, file
    n=$((n + 1))
    if grep -q -- "$2" "$3"; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$3" | head -5; failed=1; fi
}
cat >"$tmp/System.map" <<'MAP'
0000000000000000 D __per_cpu_start
0000000000100000 T low_text
0000123400006000 T window_code
ffffffff81000000 T _text
ffffffff81000000 T startup_64
MAP
"$run" --quiet --symbols="$tmp/System.map" --phase-symbols='window_code=immediate' \
    --trace-events="$tmp/events" --perfetto="$tmp/timeline.json" --stats "$guest" -- strict \
    >/dev/null 2>"$tmp/stats"
check "lm-paging with an amd64 System.map and a probe above 4 GiB passes" 0 $?
check_grep "--trace-events: the probe fired at the full RIP, named by the map" \
    "phase        0008:0000123400006000  window_code  *phase: immediate" "$tmp/events"
check_grep "--trace-events: a fault above 4 GiB shows its full saved RIP" \
    "exception    0008:0000123400005000  -  *#PF raised" "$tmp/events"
check_grep "--stats: one entry into the immediate phase" "^immediate  *1 " "$tmp/stats"
check_grep "--perfetto: the phase on the timeline" '"name":"immediate"' "$tmp/timeline.json"
n=$((n + 1))
if python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/timeline.json" 2>"$tmp/err"; then
    echo "ok $n - --perfetto: valid JSON"
else
    echo "not ok $n - --perfetto: invalid JSON"; sed 's/^/# /' "$tmp/err"; failed=1
fi
"$run" --quiet --symbols="$tmp/System.map" --trace="$tmp/trace" "$guest" -- strict >/dev/null 2>&1
check "the same guest under --trace passes" 0 $?
check_grep "--trace: the instruction above 4 GiB at its RIP, named, and its own bytes" \
    "0008:0000123400006000  window_code  *mov eax, 0x1234" "$tmp/trace"
exit $failed
