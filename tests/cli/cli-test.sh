#!/bin/sh
# Tests of x86irq-run's options and exit statuses (TAP). Arguments: RUNNER HELLO_ELF STOPS_ELF
run=$1 hello=$2 stops=$3
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..40"
check() { # description, expected status, actual status
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, expected $2)"; failed=1; fi
}
check_grep() { # description, pattern, file
    n=$((n + 1))
    if grep -q -- "$2" "$3"; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$3" | head -5; failed=1; fi
}

"$run" --help >"$tmp/out" 2>&1; check "--help exits 0" 0 $?
check_grep "--help describes the statuses" "exit status" "$tmp/out"
"$run" --version >"$tmp/out" 2>&1; check "--version exits 0" 0 $?
"$run" --frobnicate "$hello" >"$tmp/out" 2>&1; check "an unknown option is a usage error" 64 $?
"$run" --mem=lots "$hello" >"$tmp/out" 2>&1; check "a bad --mem is a usage error" 64 $?
"$run" --max-cycles=-5 "$hello" >"$tmp/out" 2>&1; check "a negative --max-cycles is a usage error" 64 $?
"$run" "$tmp/missing.elf" >"$tmp/out" 2>&1; check "a missing file is an I/O error" 74 $?
check_grep "the message names the file" "missing.elf" "$tmp/out"
"$run" "$0" >"$tmp/out" 2>&1; check "a shell script is not an ELF" 65 $?
"$run" --max-cycles=1000 "$stops" -- spin >"$tmp/out" 2>&1; check "--max-cycles reached" 124 $?
"$run" "$stops" -- halt >"$tmp/out" 2>&1; check "halted forever" 123 $?
"$run" "$stops" -- triple >"$tmp/out" 2>&1; check "triple fault" 125 $?
"$run" --qemu-exit-codes "$stops" -- exit 21 >"$tmp/out" 2>&1; check "--qemu-exit-codes maps v to (v<<1)|1" 43 $?
"$run" --stats "$stops" -- reset >"$tmp/out" 2>&1; check "the 8042's reset pulse stops the run (120)" 120 $?
check_grep "--stats: stop reason reset" "stop reason *reset" "$tmp/out"
"$run" "$stops" -- portreset >"$tmp/out" 2>&1; check "port 0xCF9's RST_CPU stops the run (120)" 120 $?
"$run" --stats "$stops" -- poweroff >"$tmp/out" 2>&1; check "ACPI S5 powers off: status 0" 0 $?
check_grep "--stats: stop reason poweroff" "stop reason *poweroff" "$tmp/out"
# processors: --smp=N and QEMU's --smp N; out of range is a usage error
"$run" --smp=0 "$hello" >"$tmp/out" 2>&1; check "--smp=0 is a usage error" 64 $?
"$run" --smp=65 "$hello" >"$tmp/out" 2>&1; check "--smp=65 is a usage error" 64 $?
"$run" --smp-quantum=0 "$hello" >"$tmp/out" 2>&1; check "--smp-quantum=0 is a usage error" 64 $?
"$run" --isa=sse5 "$hello" >"$tmp/out" 2>&1; check "--isa=sse5 is a usage error" 64 $?
"$run" --isa=sse, "$hello" >"$tmp/out" 2>&1; check "--isa=sse, is a usage error" 64 $?
"$run" --isa=sse4.2,xsave "$hello" >"$tmp/out" 2>&1; check "--isa=sse4.2,xsave runs" 0 $?
"$run" --smp 3 --stats "$hello" >"$tmp/out" 2>&1; check "--smp 3 (QEMU's spelling) runs the guest" 0 $?
check_grep "--smp 3: the report has a row per CPU" "^2  " "$tmp/out"
# loading Linux kernels: the options, and bad images refused with one line
"$run" --initrd=/dev/null "$hello" >"$tmp/out" 2>&1; check "--initrd without --kernel is a usage error" 64 $?
"$run" --kernel="$hello" >"$tmp/out" 2>&1; check "an ELF as --kernel is a load error" 65 $?
check_grep "the message says it is not a Linux kernel" "not a Linux kernel image" "$tmp/out"
"$run" --kernel "$tmp/nothing" >"$tmp/out" 2>&1; check "a missing --kernel file is an I/O error" 74 $?
"$run" "$tmp" >"$tmp/out" 2>&1; check "a directory as the guest is an I/O error" 74 $?
check_grep "which says it is a directory" "Is a directory" "$tmp/out"
"$run" --trace-events="$tmp" "$hello" >"$tmp/out" 2>&1; check "an output file that cannot be created is an I/O error" 74 $?
"$run" --cost-profile="$tmp" "$hello" >"$tmp/out" 2>&1; check "a directory as --cost-profile is an I/O error" 74 $?
"$run" --cpu-hz=1 "$hello" >"$tmp/out" 2>&1; check "--cpu-hz below 1 MHz is a usage error" 64 $?
"$run" --cpu-hz=18446744073709551615 "$hello" >"$tmp/out" 2>&1; check "--cpu-hz above 100 GHz is a usage error" 64 $?
"$run" --symbols="$0" "$hello" >"$tmp/out" 2>&1; check "--symbols with a file that is not nm output is a load error" 65 $?
"$run" --quiet --trace="$tmp/trace" "$hello" >"$tmp/out" 2>&1
check_grep "--trace shows symbols and disassembly" "kmain.*push" "$tmp/trace"
# the fast loop and the traced loop count the same instructions and cycles, and two runs are
# identical (determinism)
"$run" --quiet --stats "$hello" 2>&1 >/dev/null | grep -E "^(instructions|cycles)" >"$tmp/fast"
"$run" --quiet --stats --trace=/dev/null "$hello" 2>&1 >/dev/null | grep -E "^(instructions|cycles)" >"$tmp/traced"
n=$((n + 1))
if cmp -s "$tmp/fast" "$tmp/traced" && [ -s "$tmp/fast" ]; then echo "ok $n - fast and traced runs count alike"; else echo "not ok $n - fast and traced runs differ"; failed=1; fi
"$run" --quiet --stats "$hello" 2>&1 >/dev/null | grep -E "^(instructions|cycles)" >"$tmp/again"
n=$((n + 1))
if cmp -s "$tmp/fast" "$tmp/again"; then echo "ok $n - two runs are identical"; else echo "not ok $n - two runs differ"; failed=1; fi
exit $failed
