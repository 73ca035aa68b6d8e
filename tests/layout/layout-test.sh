#!/bin/sh
# The dependency rule of docs/architecture.md, checked on the sources: each layer of src/
# includes only the layers below it (board and machine -> devices, apic, idt, cpu, loader,
# trace -> platform). A core (cpu, idt, apic) never reaches into the board or the machine, so it
# can be unit-tested on the cores fixture (tests/unit/fixture) without a whole machine.
#   layout-test.sh SOURCE_ROOT
set -u
src=$1/src
n=0
fails=0
# layer: the directories it may include from (besides its own, the public x86irq/ headers and
# its own .def tables)
rules='platform:
devices:platform
loader:platform
trace:platform cpu loader
cpu:platform trace idt
idt:platform trace cpu
apic:platform trace cpu'
echo "1..$(printf '%s\n' "$rules" | wc -l)"
printf '%s\n' "$rules" | { while IFS=: read -r layer allowed; do
    n=$((n + 1))
    bad=$(grep -Hn '^#include "' "$src/$layer"/*.[ch] 2>/dev/null | while IFS= read -r line; do
        target=$(printf '%s\n' "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
        case $target in
        */*) dir=${target%%/*} ;;
        *) continue ;; # a file of the same directory (a .def table)
        esac
        ok=no
        for a in "$layer" x86irq $allowed; do [ "$dir" = "$a" ] && ok=yes; done
        [ $ok = yes ] || printf '%s\n' "${line#"$src/"}"
    done)
    if [ -z "$bad" ]; then
        echo "ok $n - src/$layer includes only its own headers${allowed:+ and $allowed}"
    else
        echo "not ok $n - src/$layer reaches outside its layer:"
        printf '%s\n' "$bad" | sed 's/^/#   /'
        fails=$((fails + 1))
    fi
done
exit $((fails > 0)); }
