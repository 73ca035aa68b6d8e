#!/bin/sh
# Tests of x86irq-run's serial input options (TAP). Arguments: RUNNER UART_ELF INPUT_FILE
run=$1 uart=$2 input=$3
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..7"
check() { # description, expected status, actual status
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, expected $2)"; failed=1; fi
}
check_grep() { # description, pattern, file
    n=$((n + 1))
    if grep -q -- "$2" "$3"; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$3" | head -5; failed=1; fi
}

"$run" --serial-input "$uart" >"$tmp/out" 2>&1; check "--serial-input without a file is a usage error" 64 $?
"$run" --serial-input="$tmp/missing" "$uart" >"$tmp/out" 2>&1; check "a missing --serial-input file is an I/O error" 74 $?
check_grep "the message names the file" "missing" "$tmp/out"
# the guest echoes what it receives; 'q' ends it with status 0
printf 'hi\nq' >"$tmp/echo"
"$run" --serial-input="$tmp/echo" "$uart" -- echo >"$tmp/out" 2>&1; check "--serial-input feeds the guest" 0 $?
n=$((n + 1))
if tr -d '\r' <"$tmp/out" | tr '\n' ' ' | grep -q '\[68\] \[69\] \[0a\] \[71\]'; then echo "ok $n - the bytes arrive in order"; else echo "not ok $n - the bytes arrive in order"; sed 's/^/# /' "$tmp/out" | head -8; failed=1; fi
# deterministic: two runs with the same input count the same cycles
"$run" --quiet --stats --serial-input="$input" "$uart" 2>&1 >/dev/null | grep -E "^(instructions|cycles)" >"$tmp/first"
"$run" --quiet --stats --serial-input="$input" "$uart" 2>&1 >/dev/null | grep -E "^(instructions|cycles)" >"$tmp/second"
n=$((n + 1))
if cmp -s "$tmp/first" "$tmp/second" && [ -s "$tmp/first" ]; then echo "ok $n - two runs with the same input are identical"; else echo "not ok $n - two runs differ"; failed=1; fi
# --console with stdin not a terminal: the bytes are forwarded as they are, no escapes
printf 'a\001xq' | "$run" --console "$uart" -- echo >"$tmp/out" 2>&1; check "--console from a pipe forwards Ctrl-A and 'x' verbatim" 0 $?
exit $failed
