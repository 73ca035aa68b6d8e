#!/bin/sh
# The meson test suite 'linux': Debian 12's own kernel, i386 or amd64 (the kit of
# scripts/get-linux.sh), boots on libx86irq to its busybox userspace, probes its e1000 on the IO-APIC, pings the
# network peer, powers off through ACPI; two boots give the same bytes; with the kernel's
# symbols (scripts/linux-symbols.sh) and its phase and switch functions, the nesting check of a
# third boot is clean and the emulator counts the NIC's interrupts as /proc/interrupts does.
# With CPUS > 1 (x86irq-run --smp): every CPU is online and takes local timer, rescheduling
# and function-call IPIs, the munmaps of /bin/x86irq-threads (a thread of one mm on each CPU)
# send every CPU TLB shootdowns, and the counts are the sums of /proc/interrupts' columns.
#   linux-test.sh X86IRQ_RUN FLAVOUR GET_LINUX_SH WORKDIR [CPUS]
set -u
run=$1
flavour=$2
get_linux=$3
cpus=${5:-1}
if [ "$cpus" -gt 1 ]; then
    work=$4/linux-$flavour-smp$cpus
else
    work=$4/linux-$flavour
fi
mkdir -p "$work"
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$3', expected '$2')"; fi; }
check_grep() { if grep -q -- "$2" "$3"; then ok "$1"; else not_ok "$1 (no '$2' in $3)"; fi; }

. "$(dirname "$0")/kit.sh"
require_kit "$get_linux"
kit=$("$get_linux" --print)/$flavour

boot() {
    name=$1
    shift
    "$run" --smp="$cpus" --mem=256M --nic-peer --kernel "$kit/bzImage" --initrd "$kit/initrd.gz" \
        --serial-output="$work/$name.console" "$@" 2>"$work/$name.stats"
    echo $? > "$work/$name.status"
}
# a and b: the plain command; c: with the symbols, the phases and the nesting check
symbols=$("$(dirname "$get_linux")/linux-symbols.sh" "$run" "$flavour") || symbols=
boot a --append "console=ttyS0 quiet" --trace-events="$work/a.events" &
boot b --append "console=ttyS0 quiet" --trace-events="$work/b.events"
wait
# c also types into busybox's shell on the console (the UART's receive path, at the line rate)
printf 'echo typed-input $((6 * 7))\nexit\n' > "$work/input.txt"
# (amd64: with the vsyscall page emulated, which Debian's vsyscall=none default leaves out)
extra=
[ "$flavour" = amd64 ] && extra=" vsyscall=xonly"
[ -n "$symbols" ] && boot c --append "console=ttyS0 quiet nokaslr shell$extra" --symbols="$symbols" \
    --phase-symbols=linux --stats --check-nesting --serial-input="$work/input.txt"
console=$work/a.console
tr -d '\r' < "$console" > "$work/a.text"
text=$work/a.text
tr -d '\r' < "$work/c.console" > "$work/c.text" 2>/dev/null

plan=22
[ "$cpus" -gt 1 ] && plan=$((plan + 3))
[ "$flavour" = amd64 ] && plan=$((plan + 2))
echo "1..$plan"
check "the kernel powers off through ACPI S5 (exit status 0)" 0 "$(cat "$work/a.status")"
check_grep "Linux brought up $cpus CPUs (its log: smpboot: Total of $cpus processors activated)" \
    "x86irq-init: smpboot: Total of $cpus processors activated" "$text"
check_grep "the busybox userspace runs (/init)" "x86irq-init: userspace reached ($(cat "$kit/VERSION"))" "$text"
check_grep "e1000 is probed and eth0 on the IO-APIC, fasteoi (level)" "IO-APIC  11-fasteoi   eth0" "$work/c.text"
check_grep "ping: the peer at 10.0.2.2 answers every echo" "3 packets transmitted, 3 packets received" "$text"
check_grep "the timer on the IO-APIC (ISA IRQ 0 on pin 2)" "IO-APIC   2-edge      timer" "$text"
check_grep "ttyS0 on the IO-APIC (IRQ 4)" "IO-APIC   4-edge      ttyS0" "$text"
# the machine's clocks as Linux takes them: the TSC (one clock for every CPU, so Linux's warp
# check passes), the local APIC's TSC-deadline mode as every CPU's clock event device, the vDSO
# reading the TSC in user mode; the CPU free of the issues IA32_ARCH_CAPABILITIES clears
check_grep "the TSC is Linux's clocksource (synchronised across the CPUs)" "x86irq-init: clocksource tsc" "$text"
deadline=$(grep -c "^x86irq-init: clockevent[0-9]* lapic-deadline" "$text")
check "every CPU's clock event device is the TSC-deadline timer (lapic-deadline)" "$cpus" "$deadline"
check_grep "the vDSO's clock_gettime (RDTSCP in user mode) agrees with the system call" \
    "x86irq-vdso: clock_gettime .*, monotonic, within the system call's" "$text"
if [ "$flavour" = amd64 ]; then
    check_grep "the 64-bit vDSO (clock_gettime; getcpu: LSL of the per-CPU GDT descriptor) on every CPU" \
        "x86irq-vdso64: clock_gettime .*, monotonic, within the system call's; getcpu agrees" "$text"
    check_grep "with vsyscall=xonly: the vsyscall page's gettimeofday, emulated from its fetch fault" \
        "x86irq-vdso64: .*; vsyscall gettimeofday agrees" "$work/c.text"
fi
if grep -q "vulnerability meltdown: Not affected" "$text" &&
    grep -q "vulnerability mds: Not affected" "$text" && grep -q "vulnerability l1tf: Not affected" "$text"; then
    ok "Meltdown, MDS, L1TF: Not affected (IA32_ARCH_CAPABILITIES)"
else
    not_ok "Meltdown, MDS or L1TF reported ($(grep -E 'vulnerability (meltdown|mds|l1tf)' "$text" | tr '\n' ';'))"
fi
# the first $cpus numbers of a /proc/interrupts row (one column per CPU)
columns() { sed -n "s/^ *$1: *//p" "$2" | awk -v n="$cpus" '{ s = $1; for (i = 2; i <= n; i++) s = s " " $i; print s }'; }
sum() { awk '{ t = 0; for (i = 1; i <= NF; i++) t += $i; print t }'; }
loc=$(columns LOC "$text" | sum)
if [ "${loc:-0}" -gt 0 ]; then ok "local APIC timer interrupts counted (LOC $loc)"; else not_ok "LOC is ${loc:-missing}"; fi
if [ "$cpus" -gt 1 ]; then
    check_grep "all $cpus CPUs online (/proc/interrupts has a column for CPU$((cpus - 1)))" \
        "^ *CPU0 .*CPU$((cpus - 1)) *$" "$text"
    every=yes
    for row in LOC RES CAL; do
        set -- $(columns $row "$text")
        [ $# -eq "$cpus" ] || every=no
        for c in "$@"; do [ "$c" -gt 0 ] 2>/dev/null || every=no; done
    done
    seen="LOC $(columns LOC "$text"), RES $(columns RES "$text"), CAL $(columns CAL "$text")"
    if [ $every = yes ]; then ok "every CPU takes timer, rescheduling and call IPIs ($seen)"
    else not_ok "a CPU without LOC, RES or CAL ($seen)"; fi
    tlb=$(columns TLB "$text")
    every=yes
    set -- $tlb
    [ $# -eq "$cpus" ] || every=no
    for c in "$@"; do [ "$c" -gt 0 ] 2>/dev/null || every=no; done
    threads=$(grep -o 'x86irq-threads: .*' "$text")
    if [ $every = yes ]; then ok "TLB shootdowns reach every CPU (TLB $tlb; $threads)"
    else not_ok "a CPU without TLB shootdowns (TLB ${tlb:-missing}; $threads)"; fi
fi
net_rx=$(columns NET_RX "$text" | sum)
if [ "${net_rx:-0}" -gt 0 ]; then ok "NET_RX softirqs ran ($net_rx)"; else not_ok "NET_RX is ${net_rx:-missing}"; fi
if [ -n "$symbols" ]; then ok "the kernel's symbols ($symbols)"; else not_ok "no symbols (scripts/linux-symbols.sh failed)"; fi
check "with symbols: powers off too" 0 "$(cat "$work/c.status" 2>/dev/null)"
check_grep "with Linux's phase and switch symbols the nesting check is clean" "nesting check: 0 rules fired" "$work/c.stats"
check_grep "the phases table shows the softirqs" "^softirq  *[1-9]" "$work/c.stats"
check_grep "--serial-input: typed into busybox's shell, the shell answers" "^typed-input 42" "$work/c.text"
# interrupts counted: /proc/interrupts' lines against the vectors routed from the IOAPIC pins
# of the timer (pin 2: quiet once the local APIC timer took over), the RTC (pin 8) and eth0
# (pin 11: e1000's watchdog may raise one more before the power-off, every 2 s)
tr -d '\r' < "$work/c.console" > "$work/c.text"
counts() {
    linux=$(grep -E " $2\$" "$work/c.text" | columns "$1" /dev/stdin | sum)
    ours=$(sed -n '/^--- deliveries by IOAPIC pin/,/^---/p' "$work/c.stats" |
        awk -v p="$3" '$1 == p { print $2 }')
    echo "${linux:-0} ${ours:-0}"
}
set -- $(counts 0 timer 2) $(counts 8 rtc0 8) $(counts 11 eth0 11)
if [ "$1 $3" = "$2 $4" ] && [ "$5" -gt 0 ] && [ "$6" -ge "$5" ] && [ "$6" -le $(($5 + 1)) ]; then
    ok "--stats counts the interrupts /proc/interrupts shows (timer $1, rtc0 $3, eth0 $5/$6)"
else
    not_ok "--stats: timer $2 (Linux $1), rtc0 $4 (Linux $3), eth0 $6 (Linux $5)"
fi
check "the second boot ends the same way" "$(cat "$work/a.status")" "$(cat "$work/b.status")"
if cmp -s "$work/a.console" "$work/b.console"; then ok "two boots: byte-identical serial output"; else not_ok "two boots: the serial output differs"; fi
if cmp -s "$work/a.events" "$work/b.events"; then ok "two boots: byte-identical trace events"; else not_ok "two boots: the trace events differ"; fi
[ $fails -eq 0 ] && rm -f "$work"/*.events
exit $((fails > 0))
