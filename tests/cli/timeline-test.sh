#!/bin/sh
# Tests of x86irq-run --timeline (TAP) without a browser: the SVG is well-formed, has a band per
# CPU, the handlers' names and kinds of bundled guests, the phases, the same bytes twice, and
# stays under its size bound for a long run; the HTML page embeds it with its script and
# nothing external; bad options are usage errors.
#   timeline-test.sh RUNNER TIMER_ELF DEFERRED_WORK_ELF BREAKPOINT_ELF PAGE_FAULT_ELF
#                    SMP_IPI_2_ELF INTERRUPT_STORM_ELF
run=$1 timer=$2 deferred=$3 breakpoint=$4 pagefault=$5 ipi=$6 storm=$7
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..26"
check() { # description, expected status, actual status
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, expected $2)"; failed=1; fi
}
# svg_check FILE PYTHON-CONDITIONS...: parses FILE (SVG, or the <svg> element of an HTML page)
# and evaluates the conditions with root (the svg element), rects (class -> count of plot
# rects), titles (all tooltip texts), bands (the CPU bands), text (the file); prints the
# first that fails
svg_check() {
    python3 - "$@" <<'PY'
import re, sys, xml.etree.ElementTree as E
path, conditions = sys.argv[1], sys.argv[2:]
text = open(path, encoding="utf-8").read()
if path.endswith(".html"):
    text_svg = text[text.index("<svg"):text.index("</svg>") + 6]
else:
    text_svg = text
S = "{http://www.w3.org/2000/svg}"
root = E.fromstring(text_svg)
assert root.tag == S + "svg", root.tag
bands = [g for g in root.iter(S + "g") if g.get("class") == "band"]
zoom = [g for g in root.iter(S + "g") if g.get("id") == "zoom"][0]
rects = {}
for r in zoom.iter(S + "rect"):
    for c in r.get("class", "").split():
        rects[c] = rects.get(c, 0) + 1
titles = [t.text or "" for t in zoom.iter(S + "title")]
for c in conditions:
    if not eval(c):
        print("failed: " + c, file=sys.stderr)
        sys.exit(1)
PY
}
result() { # description, then the status of what was just run
    n=$((n + 1))
    if [ "$2" = 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$tmp/err" | head -5; failed=1; fi
}

"$run" --quiet --timeline="$tmp/timer.svg" "$timer" >/dev/null 2>"$tmp/err"
check "the timer example with --timeline=FILE.svg" 0 $?
svg_check "$tmp/timer.svg" 'True' 2>"$tmp/err"; result "well-formed SVG" $?
svg_check "$tmp/timer.svg" 'len(bands) == 1' 'text.count("CPU 0") >= 1' 2>"$tmp/err"
result "one band for one CPU" $?
svg_check "$tmp/timer.svg" 'rects.get("k-external", 0) > 0' 'rects.get("k-timer", 0) > 0' 2>"$tmp/err"
result "the PIT's interrupts (external) and the local APIC timer's in their kinds" $?
svg_check "$tmp/timer.svg" 'any("vector 0x30 trap_stubs" in t for t in titles)' \
    'any("vector 0x31 trap_stubs" in t for t in titles)' 2>"$tmp/err"
result "the handlers' names in the tooltips (merged ones too)" $?
svg_check "$tmp/timer.svg" '"legend" in text' '"local APIC timer" in text' \
    're.search(r">\d+M</text>", text)' '"\u00b5s</text>" in text' '"timer.elf" in text' 2>"$tmp/err"
result "a legend, a labelled axis in cycles and microseconds, a title" $?
# a window around the first PIT tick: the slices are wide enough to be drawn one by one
first=$(python3 - "$tmp/timer.svg" <<'PY'
import re, sys
m = re.search(r"cycles (\d+)-\d+ \([^)]*\)</title></rect>", open(sys.argv[1], encoding="utf-8").read())
print(m.group(1) if m else 0)
PY
)
"$run" --quiet --timeline="$tmp/window.svg" --timeline-window="$first:$((first + 40000))" "$timer" \
    >/dev/null 2>"$tmp/err"
check "--timeline-window=FROM:TO" 0 $?
svg_check "$tmp/window.svg" 'any(re.search(r"^vector 0x3[01] trap_stubs.*\n.*, vector 0x3[01]\nstart \d+ cycles .*\nduration 187 cycles", t) for t in titles)' \
    "'cycles $first-$((first + 40000))' in text" 2>"$tmp/err"
result "in the window a slice of its own: name, vector, start, duration (187 cycles)" $?

"$run" --quiet --timeline="$tmp/bp.svg" "$breakpoint" >/dev/null 2>&1
"$run" --quiet --timeline="$tmp/pf.svg" "$pagefault" >/dev/null 2>&1
svg_check "$tmp/bp.svg" 'rects.get("k-trap", 0) > 0' 'any(t.startswith("#BP") or "#BP" in t for t in titles)' 2>"$tmp/err"
result "the breakpoint example: #BP as a trap" $?
svg_check "$tmp/pf.svg" 'rects.get("k-fault", 0) > 0' 'any("#PF" in t for t in titles)' 2>"$tmp/err"
result "the page-fault example: #PF as a fault" $?

"$run" --quiet --timeline="$tmp/dw.svg" "$deferred" >/dev/null 2>"$tmp/err"
check "deferred-work (phase markers)" 0 $?
svg_check "$tmp/dw.svg" '">phases</text>" in text' 'rects.get("k-softirq", 0) > 0' \
    'rects.get("k-workqueue", 0) > 0' 'rects.get("k-timer", 0) > 0' '"depth 2" in text' 2>"$tmp/err"
result "its phases on their row, a nested interrupt on depth 2" $?
"$run" --quiet --timeline="$tmp/dw2.svg" "$deferred" >/dev/null 2>&1
cmp -s "$tmp/dw.svg" "$tmp/dw2.svg"; result "the same run gives the same bytes" $?

"$run" --quiet --smp=2 --timeline="$tmp/ipi.svg" "$ipi" >/dev/null 2>"$tmp/err"
check "a two-CPU guest (--smp 2)" 0 $?
svg_check "$tmp/ipi.svg" 'len(bands) == 2' '[b.get("data-cpu") for b in bands] == ["0", "1"]' \
    'rects.get("k-ipi", 0) > 0' '"2 CPUs" in text' 2>"$tmp/err"
result "one band per CPU, the IPIs in their kind" $?

"$run" --quiet --smp=2 --timeline="$tmp/ipi.html" "$ipi" >/dev/null 2>"$tmp/err"
check "--timeline=FILE.html" 0 $?
svg_check "$tmp/ipi.html" 'len(bands) == 2' 'text.startswith("<!DOCTYPE html>")' '"<script>" in text' \
    'not re.search(r"(src|href)=", text)' \
    'not [u for u in re.findall(r"https?://[^\"\x27 ]*", text) if u != "http://www.w3.org/2000/svg"]' 2>"$tmp/err"
result "the page embeds the same SVG and a script, nothing external" $?
python3 - "$tmp/ipi.svg" "$tmp/ipi.html" <<'PY' 2>"$tmp/err"
import sys
svg = open(sys.argv[1], encoding="utf-8").read()
html = open(sys.argv[2], encoding="utf-8").read()
body = svg[svg.index("<svg"):]
assert body in html, "the page's SVG differs from the file's"
PY
result "the page's picture is the SVG file's" $?

# a long run: two million interrupts, still a small file
"$run" --quiet --timeline="$tmp/storm.svg" --stats "$storm" >/dev/null 2>"$tmp/err"
check "the interrupt storm (2 million interrupts)" 0 $?
size=$(wc -c <"$tmp/storm.svg")
[ "$size" -lt 3000000 ]; result "its picture is under 3 MB ($size bytes)" $?
svg_check "$tmp/storm.svg" '"2000000 narrower than 2 px merged" in text' 'rects.get("k-ipi", 0) > 0' \
    'any("vector 0x40 storm_entry" in t for t in titles)' 2>"$tmp/err"
result "its slices merged into density marks, with their name" $?
# the storm in windows of a million and of ten thousand cycles: slices drawn one by one
"$run" --quiet --timeline="$tmp/storm-w.svg" --timeline-window=100000000:100010000 "$storm" >/dev/null 2>"$tmp/err"
svg_check "$tmp/storm-w.svg" 'rects.get("k-ipi", 0) > 20' \
    'len([t for t in titles if t.startswith("vector 0x40 storm_entry")]) > 20' 2>"$tmp/err"
result "a window of the storm shows its slices one by one" $?

"$run" --quiet --timeline="$tmp/x.png" "$timer" >/dev/null 2>"$tmp/err"
status=$?
[ $status = 64 ] && grep -q "svg or .html" "$tmp/err"; result "--timeline=FILE.png: usage error (64)" $?
"$run" --quiet --timeline="$tmp/x.svg" --timeline-window=5:2 "$timer" >/dev/null 2>"$tmp/err"
check "--timeline-window with TO below FROM: usage error" 64 $?
"$run" --quiet --timeline-window=1:2 "$timer" >/dev/null 2>"$tmp/err"
check "--timeline-window without --timeline: usage error" 64 $?
"$run" --quiet --timeline="$tmp/no/such/dir.svg" "$timer" >/dev/null 2>"$tmp/err"
check "a file that cannot be created: status 74" 74 $?
exit $failed
