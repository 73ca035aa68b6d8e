#!/bin/sh
# Every function the public headers export (X86IRQ_API) is named in docs/api.md, and every
# x86irq_ function docs/api.md names exists: the reference neither misses a call nor keeps
# one that is gone.
#   api-docs-test.sh SOURCE_ROOT
set -eu
root=$1
exported=$(sed -n 's/.*X86IRQ_API[^(]*[ *]\(x86irq_[a-z0-9_]*\)(.*/\1/p' "$root"/include/x86irq/*.h |
    sort -u)
named=$(grep -o 'x86irq_[a-z0-9_]*[a-z0-9]' "$root/docs/api.md" | sort -u)
# names in the headers that are not functions: types, enum constants' prefixes, macros
known=$(grep -ho 'x86irq_[a-z0-9_]*' "$root"/include/x86irq/*.h | sort -u)
echo "1..2"
missing=$(printf '%s\n' "$exported" | while read -r f; do
    printf '%s\n' "$named" | grep -qx "$f" || echo "$f"
done)
count=$(printf '%s\n' "$exported" | wc -l)
if [ -z "$missing" ] && [ "$count" -gt 40 ]; then
    echo "ok 1 - docs/api.md names all $count exported functions"
else
    echo "not ok 1 - docs/api.md does not name: $(echo $missing) ($count exported)"
fi
stale=$(printf '%s\n' "$named" | while read -r n; do
    printf '%s\n' "$known" | grep -qx "$n" || echo "$n"
done)
if [ -z "$stale" ]; then
    echo "ok 2 - every x86irq_ name in docs/api.md is in the headers"
else
    echo "not ok 2 - docs/api.md names what the headers do not have: $(echo $stale)"
fi
