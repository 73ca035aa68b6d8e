#!/bin/sh
# The man page x86irq-run(1) (docs/x86irq-run.1, installed): every option --help lists is in
# it, and every exit status --help names; groff, where installed, renders it without warnings.
#   man-test.sh RUNNER MAN_PAGE
run=$1 page=$2
n=0 failed=0
echo "1..3"
result() { n=$((n + 1)); if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
missing=
for option in $("$run" --help 2>&1 | sed -n 's/^  \(--[a-z0-9-]*\).*/\1/p'); do
    # the page writes each dash as \-
    grep -qF -- "$(printf '%s' "$option" | sed 's/-/\\-/g')" "$page" || missing="$missing $option"
done
if [ -z "$missing" ]; then result ok "every option of --help is in the man page"
else result fail "options missing from the man page:$missing"; fi
missing=
for status in $("$run" --help 2>&1 | sed -n '/^exit status/,$p' | grep -o '[0-9][0-9][0-9]* [a-z-]' | cut -d' ' -f1); do
    grep -q "^\.B $status\$" "$page" || missing="$missing $status"
done
if [ -z "$missing" ]; then result ok "every exit status of --help is in the man page"
else result fail "exit statuses missing from the man page:$missing"; fi
if command -v groff >/dev/null 2>&1; then
    warnings=$(groff -ww -man -z "$page" 2>&1)
    if [ -z "$warnings" ]; then result ok "groff renders it without warnings"
    else result fail "groff: $warnings"; fi
else
    n=$((n + 1)); echo "ok $n - # SKIP groff is not installed"
fi
exit $failed
