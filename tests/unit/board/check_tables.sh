#!/bin/sh
# The firmware tables as ACPICA reads them (the meson test firmware-acpica).
# Usage: check_tables.sh DUMP_TABLES IASL ACPIEXEC DSDT_AML
#  1. the DSDT as iasl compiled it disassembles (iasl -d);
#  2. for a machine with an HPET and one without, every table dump_tables writes disassembles
#     with no complaint (a wrong checksum, length or field shows as "Incorrect"/"Invalid"/...
#     in the .dsl), and the disassembled DSDT compiles again;
#  3. acpiexec loads FADT, DSDT, MADT (and HPET) and evaluates \_S5, every \_SB.PCI0._PRT entry
#     (checked here against the routing rule, written independently of the C code), the HPET
#     device and the system-resource reservations the C code patches, and \_PIC.
set -eu
absolute() {
    case $1 in
    /*) echo "$1" ;;
    *) echo "$PWD/$1" ;;
    esac
}
dump=$(absolute "$1") iasl=$2 acpiexec=$3 aml=$(absolute "$4")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
fail() {
    echo "check_tables: $*" >&2
    exit 1
}

cp "$aml" "$work/built.aml"
(cd "$work" && "$iasl" -d built.aml >built.log 2>&1) || fail "iasl -d of the compiled DSDT: $(cat "$work/built.log")"
grep -q 'DefinitionBlock ("", "DSDT", 2, "X86IRQ", "LIBX86IQ", 0x00000001)' "$work/built.dsl" ||
    fail "the compiled DSDT's definition block is not ours"

for variant in hpet no-hpet; do
    dir="$work/$variant"
    mkdir "$dir"
    "$dump" "$dir" "$variant" || fail "dump_tables $variant failed"
    cd "$dir"
    for t in rsdt xsdt facp facs dsdt apic hpet; do
        if [ ! -f "$t.dat" ]; then
            [ "$t" = hpet ] && [ "$variant" = no-hpet ] && continue
            fail "$variant: no $t table"
        fi
        "$iasl" -d "$t.dat" >"$t.log" 2>&1 || fail "$variant: iasl -d $t.dat: $(cat "$t.log")"
        if grep -n -i -E 'incorrect|invalid|unknown|warning|error' "$t.dsl" "$t.log"; then
            fail "$variant: iasl complains about $t"
        fi
    done
    [ "$variant" = no-hpet ] && [ -f hpet.dat ] && fail "an HPET table without an HPET"
    "$iasl" -vs -p reassembled dsdt.dsl >reassemble.log 2>&1 ||
        fail "$variant: the disassembled DSDT does not compile: $(cat reassemble.log)"

    tables="facp.dat dsdt.dat apic.dat"
    [ -f hpet.dat ] && tables="$tables hpet.dat"
    # shellcheck disable=SC2086
    "$acpiexec" -b 'evaluate \_S5; evaluate \_SB.PCI0._PRT; evaluate \_SB.PCI0.ISA.HPET._STA; evaluate \_SB.PCI0.ISA.HPET._CRS; evaluate \_SB.PCI0.ISA.SYSR._CRS; evaluate \_PIC 1; evaluate \PICM' \
        $tables >exec.log 2>&1 || fail "$variant: acpiexec failed: $(cat exec.log)"
    # acpiexec's own interface exercises (aetests) touch a PM2 block and GPEs 0x19 and 101,
    # which this machine does not have; anything else ACPICA reports is a failure
    if grep -v '(aetests-' exec.log | grep -n -E 'ACPI (Error|Exception|Warning)|Firmware (Error|Warning)|AE_'; then
        fail "$variant: ACPICA reported problems"
    fi
    if [ "$variant" = hpet ]; then sta=000000000000000F base="00 00 D0 FE"; else sta=0000000000000000 base="00 00 00 00"; fi
    awk -v sta="$sta" -v base="$base" '
        function hex(s,   v, i) {
            v = 0
            for (i = 1; i <= length(s); i++)
                v = v * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1
            return v
        }
        /^Evaluating / { section = $2; next }
        section == "\\_S5" && /\[Integer\]/ { s5 = s5 " " $3 }
        section == "\\_SB.PCI0._PRT" && /Contains 128 Elements/ { prt_count = 1 }
        section == "\\_SB.PCI0._PRT" && /\[Integer\]/ {
            v[n % 4] = hex($3); n++
            if (n % 4 == 0) {
                device = int(v[0] / 65536); pin = v[1]
                want = ((device + pin + 3) % 4 < 2) ? 10 : 11
                if (v[0] != device * 65536 + 65535 || v[2] != 0 || v[3] != want || device != int((n - 1) / 16) || pin != int((n - 1) / 4) % 4) {
                    printf "bad _PRT entry %d: %x %d %d %d\n", n / 4, v[0], v[1], v[2], v[3]; bad = 1
                }
            }
        }
        section == "\\_SB.PCI0.ISA.HPET._STA" && /\[Integer\]/ { hpet_sta = $3 }
        section == "\\_SB.PCI0.ISA.HPET._CRS" && index($0, "86 09 00 00 " base " 00 04 00 00") { hpet_crs = 1 }
        section == "\\_SB.PCI0.ISA.SYSR._CRS" { crs = crs $0 }
        section == "\\PICM" && /\[Integer\]/ { picm = $3 }
        END {
            if (s5 != " 0000000000000000 0000000000000000 0000000000000000 0000000000000000") { print "_S5:" s5; bad = 1 }
            if (!prt_count || n != 512) { print "_PRT: " n " integers"; bad = 1 }
            if (hpet_sta != sta) { print "HPET._STA " hpet_sta; bad = 1 }
            if (!hpet_crs) { print "HPET._CRS without the base"; bad = 1 }
            if (!index(crs, "47 01 00 06 00 06 01 0C") || !index(crs, "47 01 E0 AF E0 AF 01 04")) { print "SYSR._CRS without the PM/GPE0 blocks"; bad = 1 }
            if (picm != "0000000000000001") { print "PICM " picm; bad = 1 }
            exit bad
        }' exec.log || fail "$variant: acpiexec evaluated something wrong (log: $(cat exec.log))"
    cd "$work"
done
echo "check_tables: ok"
