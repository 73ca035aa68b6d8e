#!/bin/sh
# gdb on Debian's amd64 kernel through the GDB remote stub (TAP, suite 'linux'): the kernel
# boots under x86irq-run --gdb-wait with its symbols (scripts/linux-symbols.sh, nokaslr);
# gdb, without an executable, breaks at the local APIC timer's entry
# (asm_sysvec_apic_timer_interrupt, the System.map's address), and the monitor commands show
# the interrupt as the hardware holds it there: vector 236 in service in the LAPIC, its
# TSC-deadline LVT entry, the IDT gate that led there; stepi, then kill.
#   linux-gdb-test.sh X86IRQ_RUN GET_LINUX_SH WORKDIR
set -u
run=$1
get_linux=$2
work=$3/linux-gdb
mkdir -p "$work"
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$3', expected '$2')"; fi; }
check_grep() { if grep -q -- "$2" "$3"; then ok "$1"; else not_ok "$1 (no '$2' in $3)"; sed 's/^/# /' "$3" | tail -15; fi; }

. "$(dirname "$0")/kit.sh"
require_kit "$get_linux"
if ! command -v gdb >/dev/null 2>&1; then
    echo "1..0 # SKIP gdb is not installed (Debian package gdb)"
    exit 0
fi
kit=$("$get_linux" --print)/amd64
map=$("$(dirname "$get_linux")/linux-symbols.sh" "$run" amd64) || map=
echo "1..8"
entry=$(awk '$3 == "asm_sysvec_apic_timer_interrupt" { print $1; exit }' "$map" 2>/dev/null)
if [ -z "$entry" ]; then
    not_ok "the kernel's symbols name asm_sysvec_apic_timer_interrupt"
    exit 1
fi
ok "the kernel's symbols name asm_sysvec_apic_timer_interrupt (0x$entry)"

timeout 600 "$run" --gdb=tcp::0 --gdb-wait --mem=256M --kernel "$kit/bzImage" \
    --initrd "$kit/initrd.gz" --append "console=ttyS0 quiet nokaslr" --symbols="$map" \
    --serial-output="$work/console" 2>"$work/server.err" &
server=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\) (target.*/\1/p' "$work/server.err")
    [ -n "$port" ] && break
    sleep 0.05
done
timeout 600 gdb -q -batch -nx -ex "set confirm off" -ex "target remote 127.0.0.1:$port" \
    -ex "break *0x$entry" -ex "continue" -ex "p/x \$rip" -ex "monitor cpus" \
    -ex "monitor lapic" -ex "monitor idt 236" -ex "stepi" -ex "p/x \$rip" -ex "kill" \
    >"$work/gdb.out" 2>&1
wait "$server"
status=$?
check_grep "gdb stops the kernel at the timer interrupt's entry" "Breakpoint 1, 0x$entry" "$work/gdb.out"
check_grep "monitor cpus names the symbol, in 64-bit mode with IF=0" \
    "CPU 0 (gdb's): running, 64-bit mode, CPL 0, IF=0, CS:RIP 0010:$entry <asm_sysvec_apic_timer_interrupt>" \
    "$work/gdb.out"
check_grep "the LAPIC holds vector 236 in service" "  ISR: 236" "$work/gdb.out"
check_grep "its timer is Linux's TSC-deadline clockevent on vector 236" \
    "LVT timer   0x[0-9a-f]*: vector 236, TSC-deadline" "$work/gdb.out"
check_grep "the IDT's gate 236 leads to the handler" \
    "236: interrupt gate 0010:$entry, DPL 0 <asm_sysvec_apic_timer_interrupt>" "$work/gdb.out"
check_grep "stepi executes its first instruction (clac, 3 bytes)" \
    "= 0x${entry%????????}$(printf '%08x' $((0x${entry#????????} + 3)))" "$work/gdb.out"
check "kill from gdb ends the run (status 121)" 121 "$status"
exit $((fails > 0))
