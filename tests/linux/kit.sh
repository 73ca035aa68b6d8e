# Sourced by the suite linux's scripts: require_kit GET_LINUX_SH ends the test with one TAP
# failure naming the script to run when the kit is missing (a failure, never a silent skip).
require_kit() {
    "$1" --check && return 0
    echo "1..1"
    echo "not ok 1 - the Linux kit is missing or incomplete in $("$1" --print): run scripts/get-linux.sh (scripts/setup.sh does)"
    exit 1
}
