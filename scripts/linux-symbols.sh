#!/bin/sh
# The symbols of a kit kernel (scripts/get-linux.sh) as x86irq-run --symbols reads them: one
# boot on libx86irq whose /init prints /proc/kallsyms (with the kit's e1000 loaded), cached in
# the kit as System.map-FLAVOUR until the initrd changes. Debian ships no System.map. The boot
# uses nokaslr, and so must the boots that use the symbols: with KASLR the kernel's place would
# depend on the command line's length (through the TSC), even in this deterministic machine.
#   scripts/linux-symbols.sh X86IRQ_RUN FLAVOUR     prints the file's path
set -eu
run=$1
flavour=$2
here=$(cd "$(dirname "$0")/.." && pwd)
kit=$("$here/scripts/get-linux.sh" --print)
k=$kit/$flavour
map=$kit/System.map-$flavour
if [ -s "$map" ] && [ "$map" -nt "$k/initrd.gz" ] && [ "$map" -nt "$k/bzImage" ]; then
    echo "$map"
    exit 0
fi
console=$(mktemp)
# a name of its own: two tests may make the same kit's map at once (the suite runs in
# parallel); the last rename wins, with the same bytes
new=$(mktemp "$map.XXXXXX")
trap 'rm -f "$console" "$new"' EXIT
"$run" --quiet --mem=256M --kernel "$k/bzImage" --initrd "$k/initrd.gz" \
    --append "console=ttyS0 quiet nokaslr x86irq.kallsyms" --serial-output="$console" \
    >/dev/null 2>&1 || true
sed -n '/x86irq-init: kallsyms begin/,/x86irq-init: kallsyms end/p' "$console" |
    sed '1d;$d' | tr -d '\r' > "$new"
if [ ! -s "$new" ]; then
    echo "linux-symbols.sh: the $flavour kernel printed no symbols" >&2
    exit 70
fi
mv "$new" "$map"
echo "$map"
