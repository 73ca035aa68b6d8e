#!/bin/sh
# Boot Debian 12's own i386 or amd64 kernel on libx86irq and watch Linux's interrupt handling from
# outside: /proc/interrupts and /proc/softirqs as the guest counts them, beside the emulator's
# own count per vector (--stats), its nesting check and a Perfetto timeline with Linux's
# phases (critical, immediate, softirq, tasklet, workqueue) per thread.
#
#   examples/linux/run.sh [686|686-pae|amd64] [more x86irq-run options...]
#
# Needs the kit (scripts/get-linux.sh; fetched here if missing) and a build (build/). The
# first run boots once more to print the kernel's /proc/kallsyms (scripts/linux-symbols.sh,
# cached in the kit): Debian's packages ship no System.map. Both boots use nokaslr, so the
# kernel sits where the symbols say.
#
# Output in examples/linux/out/ (or $X86IRQ_LINUX_OUT): FLAVOUR.console (the serial console),
# FLAVOUR.stats (the run report), FLAVOUR.json (open it in https://ui.perfetto.dev).
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
flavour=${1:-686}
[ $# -gt 0 ] && shift
case $flavour in
686|686-pae|amd64) ;;
*) echo "run.sh: the flavour is 686, 686-pae or amd64, not '$flavour'" >&2; exit 64 ;;
esac
run=${X86IRQ_RUN:-$here/build/tools/x86irq-run}
if [ ! -x "$run" ]; then
    echo "run.sh: $run is missing: build first (./scripts/setup.sh)" >&2
    exit 69
fi
if ! "$here/scripts/get-linux.sh" --check; then
    "$here/scripts/get-linux.sh"
fi
kit=$("$here/scripts/get-linux.sh" --print)
k=$kit/$flavour
out=${X86IRQ_LINUX_OUT:-$here/examples/linux/out}
mkdir -p "$out"
cmdline="console=ttyS0 quiet nokaslr"

if [ ! -s "$kit/System.map-$flavour" ]; then
    echo "run.sh: a first boot prints the kernel's symbols (/proc/kallsyms)..."
fi
symbols=$("$here/scripts/linux-symbols.sh" "$run" "$flavour")

echo "run.sh: booting Debian's $(cat "$k/VERSION") with the network peer at 10.0.2.2"
status=0
"$run" --mem=256M --nic-peer --kernel "$k/bzImage" --initrd "$k/initrd.gz" \
    --append "$cmdline" --symbols="$symbols" --phase-symbols=linux --stats \
    --check-nesting --perfetto="$out/$flavour.json" --serial-output="$out/$flavour.console" \
    "$@" 2>"$out/$flavour.stats" || status=$?

echo
echo "== what Linux counted (/proc/interrupts, /proc/softirqs) =="
sed -n '/x86irq-init: \/proc\/interrupts/,/x86irq-init: powering off/p' "$out/$flavour.console" |
    grep -v '^x86irq-init' | tr -d '\r' | grep -vE '^ *[A-Z]{3}: +0 ' || true
echo
echo "== what the emulator saw (x86irq-run --stats: deliveries per vector, phases) =="
grep -E '^(vector|#|[A-Z])|delivered|^[a-z]+ +[0-9]+ +[0-9]+ ' "$out/$flavour.stats" |
    grep -vE '^ +(assert|accept|entry)' || true
grep -E 'nesting check|thread switches|^(process|interrupt|exception) context' \
    "$out/$flavour.stats" || true
echo
echo "run.sh: exit status $status; console in $out/$flavour.console, the report in"
echo "        $out/$flavour.stats, the timeline in $out/$flavour.json (ui.perfetto.dev)"
exit $status
