#!/bin/sh
# Tests of tools/timeline-svg.py (TAP): a window of a --perfetto timeline drawn as SVG for the
# docs. Arguments: RUNNER TIMELINE_SVG_PY DEFERRED_WORK_ELF SMP_IPI_ELF
run=$1 svg=$2 deferred=$3 ipi=$4
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..9"
check() { # description, expected status, actual status
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, expected $2)"; failed=1; fi
}
check_grep() { # description, pattern, file
    n=$((n + 1))
    if grep -q -- "$2" "$3"; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$3" | head -5; failed=1; fi
}
"$run" --quiet --perfetto="$tmp/dw.json" "$deferred" >/dev/null 2>&1
"$run" --quiet --smp=2 --perfetto="$tmp/ipi.json" "$ipi" >/dev/null 2>&1
python3 "$svg" "$tmp/dw.json" "$tmp/dw.svg" --around '^softirq$' --before 5 --after 100 --title 'deferred work' 2>"$tmp/err"
check "deferred-work around its first softirq" 0 $?
python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith("svg")' "$tmp/dw.svg"
check "the picture is well-formed SVG" 0 $?
check_grep "the phases track is drawn, with the softirq in the phase's colour" '<rect [^>]*fill="#2ca02c"[^>]*><title>softirq' "$tmp/dw.svg"
check_grep "the handler's slice on the core's track" '<title>vector 0x' "$tmp/dw.svg"
python3 "$svg" "$tmp/dw.json" "$tmp/dw2.svg" --around '^softirq$' --before 5 --after 100 --title 'deferred work'
if cmp -s "$tmp/dw.svg" "$tmp/dw2.svg"; then check "the same timeline gives the same picture" 0 0; else check "the same timeline gives the same picture" 0 1; fi
python3 "$svg" "$tmp/ipi.json" "$tmp/ipi.svg" >/dev/null 2>&1
check "a two-CPU timeline, whole" 0 $?
check_grep "a band for each CPU" 'CPU 1' "$tmp/ipi.svg"
python3 "$svg" "$tmp/dw.json" "$tmp/x.svg" --around 'no such slice' 2>"$tmp/err"
status=$?
[ $status = 1 ] && grep -q "match --around" "$tmp/err"
check "--around that matches nothing: status 1 and a message" 0 $?
printf 'not json' > "$tmp/bad.json"
python3 "$svg" "$tmp/bad.json" "$tmp/x.svg" 2>"$tmp/err"
status=$?
[ $status = 1 ] && grep -q "timeline-svg: " "$tmp/err"
check "a file that is not a timeline: status 1 and a message" 0 $?
exit $failed
