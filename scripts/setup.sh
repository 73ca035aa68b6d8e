#!/bin/sh
# Quick start, command 1: install what is missing (Debian 12), configure and build, fetch the
# Linux kit for the test suite 'linux' (scripts/get-linux.sh: Debian's i386 kernels and
# busybox, about 105 MB, cached), then run the default bundled guest and print its report.
#   ./scripts/setup.sh             everything
#   ./scripts/setup.sh --no-run    install, build and fetch the kit only (CI)
#   ./scripts/setup.sh --no-linux  without the Linux kit (the suite 'linux' then fails, saying so)
#   ./scripts/setup.sh --deps-only install the packages only
set -eu
cd "$(dirname "$0")/.."

# The build needs a C compiler with 32-bit support for the guests (gcc-multilib), Meson, Ninja,
# pkg-config (Meson's dependency() uses it; a fresh Debian has none), three libraries, and
# acpica-tools (iasl compiles the DSDT; the firmware tests run iasl -d and acpiexec).
# acpica-tools: iasl compiles the DSDT (src/board/dsdt.asl); cpio and the archive keyring:
# scripts/get-linux.sh builds the Linux kit's initramfs from Debian's verified packages. gdb:
# the test of the GDB remote stub (tests/cli/gdb-test.sh) debugs guests with the real one.
# python3-pytest runs the Python package's tests (suite python), python3-matplotlib draws the
# example examples/python/latency_plot.py (docs/python.md). chromium: headless, for the test
# timeline-browser (renders --timeline pictures; skipped without).
PACKAGES="gcc gcc-multilib libc6-dev-i386 meson ninja-build pkg-config libcapstone-dev libelf-dev zlib1g-dev libcmocka-dev acpica-tools cpio debian-archive-keyring gdb python3-pytest python3-matplotlib chromium"

run=1
deps_only=0
linux=1
for arg in "$@"; do
    case $arg in
    --no-run) run=0 ;;
    --no-linux) linux=0 ;;
    --deps-only) deps_only=1 ;;
    *) echo "setup.sh: unknown option $arg (use --no-run, --no-linux or --deps-only)" >&2; exit 64 ;;
    esac
done

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=sudo
    fi
    echo "setup.sh: installing$missing"
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
[ "$deps_only" -eq 1 ] && exit 0

if [ ! -f build/build.ninja ]; then
    meson setup build
fi
meson compile -C build
if [ "$linux" -eq 1 ]; then
    ./scripts/get-linux.sh
fi

if [ "$run" -eq 1 ]; then
    echo
    echo "== running the bundled guest examples/guests/hello on libx86irq =="
    build/tools/x86irq-run --stats build/examples/guests/hello.elf -- hello from the quick start
fi
