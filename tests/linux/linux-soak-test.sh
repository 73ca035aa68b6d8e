#!/bin/sh
# The Linux soak (suite 'linux', TAP): a Debian kernel on CPUS CPUs pings the network peer 20
# times a second for SOAK seconds of guest time (examples/linux/init, x86irq.soak=) while the
# runner's generator floods eth0 with 1,000 frames a second. Checked: no ping is lost; every
# frame the NIC took into its ring reached the driver (rx_packets is the NIC's own count, in
# x86irq-run --report), every generated one the kernel got it dropped as an unknown EtherType
# (rx_dropped) and the others are counted by cause; the driver's missed-packet count is the
# NIC's; the kernel's free memory and the emulator's resident size do not grow with the soak's
# length (a soak half as long is run beside it).
#   linux-soak-test.sh X86IRQ_RUN GET_LINUX_SH WORKDIR FLAVOUR CPUS
set -u
run=$1 get_linux=$2 flavour=$4 cpus=$5
work=$3/linux-soak-$flavour-$cpus
mkdir -p "$work"
soak=75 short=35 rate=1000
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$3', expected '$2')"; fi; }
. "$(dirname "$0")/kit.sh"
require_kit "$get_linux"
kit=$("$get_linux" --print)/$flavour
echo "1..13"

# the generator sends for as long as the soak lasts, from cycle 0: the kernel is up within 15 s
# (checked), so the peer and the generator both run through at least a minute of guest time
soak_run() { # name seconds
    "$run" --quiet --smp="$cpus" --mem=256M --nic-peer --nic-traffic=$rate,64,$(($2 * rate)) \
        --kernel "$kit/bzImage" --initrd "$kit/initrd.gz" \
        --append "console=ttyS0 quiet x86irq.soak=$2" --serial-output="$work/$1.console" \
        --report="$work/$1.json" 2>"$work/$1.stderr"
    echo $? >"$work/$1.status"
    tr -d '\r' <"$work/$1.console" >"$work/$1.text"
}
soak_run long $soak &
soak_run short $short
wait
check "the soak boot powers off" 0 "$(cat "$work/long.status")"
value() { # the number after "x86irq-init: soak NAME" in the long run's console
    sed -n "s/^x86irq-init: soak $1 \([0-9]*\)\$/\1/p" "$work/${2:-long}.text"
}
report() { python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): r = r[k]
print(r)' "$work/${2:-long}.json" "$1"; }

up=$(sed -n 's/^x86irq-init: soak begin: uptime \([0-9]*\)\..*/\1/p' "$work/long.text")
if [ -n "$up" ] && [ "$up" -lt 15 ]; then
    ok "eth0 is up ${up} s into the boot: the soak overlaps the generator for $((soak - up)) s"
else
    not_ok "the soak began at uptime '${up}' s (expected below 15)"
fi
pings=$(sed -n 's/^x86irq-init: soak ping: \([0-9]*\) packets transmitted, \([0-9]*\) packets received, 0% packet loss$/\1 \2/p' "$work/long.text")
set -- $pings
if [ $# -eq 2 ] && [ "$1" = "$2" ] && [ "$1" -ge $((soak * 20 - 20)) ]; then
    ok "$1 pings in ${soak} s, every one answered"
else
    not_ok "pings: '$(grep 'soak ping' "$work/long.text")'"
fi
check "rx_packets is the NIC's count of frames into its ring" "$(report nic.received)" "$(value rx_packets)"
check "every generated frame the NIC took, the kernel dropped as an unknown EtherType" \
    "$(($(report nic.frames_in) - $(report nic.dropped)))" "$(value rx_dropped)"
check "the generator sent all $((soak * rate)) frames" "$((soak * rate))" "$(report nic.frames_in)"
check "each dropped frame is counted under a cause (the peer's replies never dropped)" \
    "$(report nic.dropped)" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["nic"]["drops"]
print(sum(v for k, v in d.items() if k != "transmit"))' "$work/long.json")"
check "rx_missed_errors is the NIC's count of missed frames" \
    "$(($(report nic.drops.no_descriptors) + $(report nic.drops.no_bus_master)))" \
    "$(value rx_missed_errors)"
check "tx_packets is the NIC's count of frames sent" "$(report nic.transmitted)" "$(value tx_packets)"
check "no receive or transmit errors" "0 0" "$(value rx_errors) $(value tx_errors)"
available() { sed -n "s/^x86irq-init: soak $1: uptime .* MemAvailable \([0-9]*\) kB\$/\1/p" "$work/long.text"; }
begin=$(available begin) end=$(available end)
if [ -n "$begin" ] && [ -n "$end" ] && [ $((begin - end)) -lt 2048 ]; then
    ok "the kernel's MemAvailable: ${begin} kB before the soak, ${end} kB after"
else
    not_ok "MemAvailable '${begin}' kB before the soak, '${end}' kB after (lost 2 MiB or more)"
fi
check "the short soak powers off too" 0 "$(cat "$work/short.status")"
long_rss=$(report host_max_rss_kib) short_rss=$(report host_max_rss_kib short)
if [ $((long_rss - short_rss)) -lt 8192 ]; then
    ok "the emulator's peak resident size: ${short_rss} kB after a ${short} s soak, ${long_rss} kB after ${soak} s"
else
    not_ok "the emulator grew with the soak: ${short_rss} kB after ${short} s, ${long_rss} kB after ${soak} s"
fi
[ "$fails" -eq 0 ]
