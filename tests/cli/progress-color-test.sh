#!/bin/sh
# Tests of x86irq-run --progress and --color (TAP). --progress runs the guest in slices and
# prints a line on stderr: the event log, --stats and --report are the same with and without
# it (the host-time lines and members aside). Colour: --color=always has ANSI escapes,
# --color=never, a pipe and NO_COLOR none, and always is never plus escapes. Terminals are
# pseudo-terminals made by python3's pty module.
#   progress-color-test.sh RUNNER INTERRUPT_STORM_ELF TIMER_ELF
run=$1 storm=$2 timer=$3
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..17"
result() { # description, status
    n=$((n + 1))
    if [ "$2" = 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; [ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err" | head -5; failed=1; fi
}
esc=$(printf '\033')
cr=$(printf '\r')
# on_tty OUT ARGS...: run the runner with stderr (and stdout) on a pseudo-terminal; what it
# wrote there goes to OUT
on_tty() {
    out=$1
    shift
    python3 - "$out" "$run" "$@" <<'PY'
import os, pty, subprocess, sys
out, argv = sys.argv[1], sys.argv[2:]
master, slave = pty.openpty()
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
p.wait()
open(out, "wb").write(data)
sys.exit(p.returncode)
PY
}
# the statistics without what host time changes (and the progress line before them)
stable() { sed "s/.*${cr}${esc}\[K//" "$1" | grep -v -e '^host time' -e '^guest MIPS'; }
report_stable() {
    python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
for k in ("host_seconds", "guest_mips", "host_max_rss_kib"): r.pop(k, None)
print(json.dumps(r, sort_keys=True))' "$1"
}

# the storm runs long enough (a second or so) for several progress updates
"$run" --quiet --progress --stats --report="$tmp/p.json" "$storm" >/dev/null 2>"$tmp/p.err"
status=$?
"$run" --quiet --stats --report="$tmp/q.json" "$storm" >/dev/null 2>"$tmp/q.err"
[ $status = 0 ] && [ $? = 0 ]; result "the storm runs with and without --progress" $?
: >"$tmp/err"
grep -q "cycles, [0-9.]* guest MIPS, [0-9.kMG]* interrupts/s" "$tmp/p.err"; result "--progress: cycles, guest MIPS and interrupts per second on stderr" $?
grep -q "${cr}${esc}\[K--- x86irq-run report" "$tmp/p.err"; result "the line is cleared at the end, before the report" $?
[ "$(grep -c "$cr" "$tmp/q.err")" = 0 ]; result "no progress when stderr is not a terminal" $?
stable "$tmp/p.err" >"$tmp/p.stable"; stable "$tmp/q.err" >"$tmp/q.stable"
diff "$tmp/p.stable" "$tmp/q.stable" >"$tmp/err"; result "--stats is the same with --progress" $?
report_stable "$tmp/p.json" >"$tmp/p.r"; report_stable "$tmp/q.json" >"$tmp/q.r"
diff "$tmp/p.r" "$tmp/q.r" >"$tmp/err"; result "--report is the same with --progress" $?
# the event log of a shorter run, cut into slices by --progress (its first slices are short)
"$run" --quiet --progress --max-cycles=6000000 --trace-events="$tmp/p.events" "$storm" >/dev/null 2>&1
"$run" --quiet --max-cycles=6000000 --trace-events="$tmp/q.events" "$storm" >/dev/null 2>&1
[ -s "$tmp/q.events" ] && cmp "$tmp/p.events" "$tmp/q.events" >"$tmp/err" 2>&1; result "the event log is byte-identical with --progress" $?
"$run" --progress --max-cycles=3000000000 --stats "$timer" >"$tmp/p.out" 2>"$tmp/p.err"
"$run" --max-cycles=3000000000 --stats "$timer" >"$tmp/q.out" 2>"$tmp/q.err"
cmp "$tmp/p.out" "$tmp/q.out" >"$tmp/err" 2>&1 && diff "$(stable "$tmp/p.err" >"$tmp/p.s"; echo "$tmp/p.s")" \
    "$(stable "$tmp/q.err" >"$tmp/q.s"; echo "$tmp/q.s")" >>"$tmp/err"; result "the timer example: serial output and --stats the same" $?

# on a terminal: progress by itself, and not with --no-progress
on_tty "$tmp/tty" --quiet "$storm"
grep -q "interrupts/s" "$tmp/tty"; result "stderr a terminal: progress by default" $?
on_tty "$tmp/tty" --quiet --no-progress "$storm"
! grep -q "interrupts/s" "$tmp/tty"; result "--no-progress: none on a terminal" $?

# colour
"$run" --quiet --stats --color=always "$timer" >/dev/null 2>"$tmp/always"
"$run" --quiet --stats --color=never "$timer" >/dev/null 2>"$tmp/never"
"$run" --quiet --stats "$timer" >/dev/null 2>"$tmp/pipe"
grep -q "${esc}\[1;36m--- x86irq-run report ---${esc}\[0m" "$tmp/always"; result "--color=always: ANSI escapes in the report" $?
! grep -q "$esc" "$tmp/never"; result "--color=never: none" $?
! grep -q "$esc" "$tmp/pipe"; result "stderr a pipe: none by default" $?
sed "s/${esc}\[[0-9;]*m//g" "$tmp/always" | grep -v -e '^host time' -e '^guest MIPS' >"$tmp/a"
grep -v -e '^host time' -e '^guest MIPS' "$tmp/never" >"$tmp/b"
diff "$tmp/a" "$tmp/b" >"$tmp/err"; result "always is never with escapes: the same text without them" $?
on_tty "$tmp/tty" --quiet --stats --no-progress "$timer"
grep -q "${esc}\[1;36m---" "$tmp/tty"; result "a terminal: colour by default" $?
NO_COLOR=1 on_tty "$tmp/tty" --quiet --stats --no-progress --color=auto "$timer"
! grep -q "${esc}\[" "$tmp/tty"; result "NO_COLOR=1 with --color=auto on a terminal: none" $?
"$run" --quiet --color=sometimes "$timer" >/dev/null 2>"$tmp/err"
[ $? = 64 ] && grep -q "auto, always or never" "$tmp/err"; result "--color=sometimes: usage error (64)" $?
exit $failed
