#!/bin/sh
# The Linux kit for examples/linux and the meson test suite 'linux': Debian 12's own kernels
# (the i386 linux-image-*-686 and -686-pae and the amd64 linux-image-*-amd64, as shipped) and
# for each an initramfs of busybox-static of its architecture with the kernel's own e1000.ko
# and /bin/x86irq-threads and /bin/x86irq-vdso (examples/linux/threads.c, a freestanding
# two-thread program for TLB shootdowns, and vdso.c, the vDSO's clock and CPU number, compiled
# here by the host's gcc -m32: no 32-bit libraries needed; the amd64 kernel runs them through
# its IA-32 emulation), and in the amd64 kit /bin/x86irq-vdso64 (vdso.c built -m64). Packages come from Debian's archive through
# apt-get download, verified by apt against the archive's signed indices, with a private apt
# state directory, so the host's dpkg architectures, apt lists and caches stay as they were.
# Idempotent: what is there is kept.
#
#   scripts/get-linux.sh            fetch (if needed) and build the kit
#   scripts/get-linux.sh --print    print the kit's directory and exit
#   scripts/get-linux.sh --check    exit 0 if the kit is complete, 1 if not (no network)
#
# The kit's directory: $X86IRQ_LINUX_KIT, or ${XDG_CACHE_HOME:-$HOME/.cache}/x86irq/linux.
# Layout: 686/, 686-pae/ and amd64/ each with bzImage, e1000.ko, initrd.gz, VERSION, config,
# System.map; debs/ the packages.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)

kit=${X86IRQ_LINUX_KIT:-${XDG_CACHE_HOME:-$HOME/.cache}/x86irq/linux}
flavours="686 686-pae amd64"
# the Debian architecture of a flavour's packages
arch_of() { case "$1" in amd64) echo amd64 ;; *) echo i386 ;; esac; }
suite=bookworm
mirror=${X86IRQ_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${X86IRQ_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# /bin/x86irq-threads and /bin/x86irq-vdso: no libc, their own _start; fixed flags, no build
# id: the same gcc gives the same bytes
threads_cflags="-m32 -march=i686 -static -nostdlib -ffreestanding -fno-pic -no-pie
 -fno-stack-protector -fno-asynchronous-unwind-tables -O2 -s -Wl,--build-id=none"
# /bin/x86irq-vdso64 (the amd64 kit only): vdso.c for x86-64, the 64-bit vDSO
vdso64_cflags="-m64 -static -nostdlib -ffreestanding -fno-pic -no-pie
 -fno-stack-protector -fno-asynchronous-unwind-tables -O2 -s -Wl,--build-id=none"
# the initrd is rebuilt when examples/linux/init, threads.c, vdso.c, freestanding.h or their
# flags change
init_sum=$({ cat "$here/examples/linux/init" "$here/examples/linux/threads.c" \
    "$here/examples/linux/vdso.c" "$here/examples/linux/freestanding.h"
    echo "$threads_cflags $vdso64_cflags"; } | cksum)
complete() {
    for f in $flavours; do
        for file in bzImage e1000.ko initrd.gz VERSION System.map; do
            [ -s "$kit/$f/$file" ] || return 1
        done
        [ "$(cat "$kit/$f/INIT" 2>/dev/null)" = "$init_sum" ] || return 1
    done
    return 0
}

case "${1:-}" in
--print) echo "$kit"; exit 0 ;;
--check) complete && exit 0; exit 1 ;;
"") ;;
*) echo "get-linux.sh: unknown option $1 (use --print or --check)" >&2; exit 64 ;;
esac

if complete; then
    echo "get-linux.sh: the kit is complete in $kit"
    exit 0
fi

for tool in apt-get dpkg-deb cpio gzip gcc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "get-linux.sh: $tool is missing (scripts/setup.sh installs what is needed)" >&2
        exit 69
    fi
done
if [ ! -r "$keyring" ]; then
    echo "get-linux.sh: $keyring is missing (Debian package debian-archive-keyring)" >&2
    exit 69
fi

mkdir -p "$kit/apt/lists/partial" "$kit/apt/cache/archives/partial" "$kit/debs"
: > "$kit/apt/status"
cat > "$kit/apt/sources.list" <<EOF
deb [arch=i386,amd64 signed-by=$keyring] $mirror $suite main
deb [arch=i386,amd64 signed-by=$keyring] $mirror $suite-updates main
deb [arch=i386,amd64 signed-by=$keyring] $security $suite-security main
EOF
# Every apt setting that could touch the host's state points into the kit instead.
apt_options="-o Dir::State=$kit/apt -o Dir::State::Lists=$kit/apt/lists
 -o Dir::State::status=$kit/apt/status -o Dir::Cache=$kit/apt/cache
 -o Dir::Etc::SourceList=$kit/apt/sources.list -o Dir::Etc::SourceParts=/nonexistent
 -o Dir::Etc::Preferences=/nonexistent -o Dir::Etc::PreferencesParts=/nonexistent
 -o APT::Architecture=i386 -o APT::Architectures::=i386 -o APT::Architectures::=amd64
 -o Debug::NoLocking=1
 -o APT::Sandbox::User=root"

echo "get-linux.sh: reading Debian's i386 and amd64 package lists (private apt state in $kit/apt)"
# A mirror caught mid-sync serves an index whose size disagrees with the Release file
# ("Mirror sync in progress?"): that passes in minutes, so try again before giving up.
attempt=1
# shellcheck disable=SC2086
until apt-get -q $apt_options update >"$kit/apt/update.log" 2>&1 && \
        ! grep -q '^E: ' "$kit/apt/update.log"; do
    if [ $attempt -ge 3 ]; then
        # some indices still missing (apt: "ignored, or old ones used"): the packages can
        # still resolve from the others, each download still checked against a signed index
        if grep -q '^E: Some index files failed to download' "$kit/apt/update.log"; then
            echo "get-linux.sh: going on without the indices that failed (see $kit/apt/update.log)" >&2
            break
        fi
        echo "get-linux.sh: apt-get update failed $attempt times; see $kit/apt/update.log" >&2
        exit 69
    fi
    echo "get-linux.sh: apt-get update failed (attempt $attempt; $(grep -m1 '^E: ' "$kit/apt/update.log" | cut -c1-100)); again in $((attempt * 30)) s" >&2
    sleep $((attempt * 30))
    attempt=$((attempt + 1))
done

# The kernel ABI the metapackages point at today (linux-image-686 -> linux-image-6.1.0-N-686)
resolve() {
    # shellcheck disable=SC2086
    apt-cache $apt_options depends "$1" 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*\)\(:[a-z0-9]*\)\{0,1\}$/\1/p' | head -n 1
}

cd "$kit/debs"
packages="busybox-static:i386 busybox-static:amd64"
for f in $flavours; do
    p=$(resolve "linux-image-$f:$(arch_of "$f")")
    if [ -z "$p" ]; then
        echo "get-linux.sh: cannot resolve linux-image-$f in Debian $suite" >&2
        exit 69
    fi
    echo "$p" > "$kit/.package-$f"
    packages="$packages $p:$(arch_of "$f")"
done
echo "get-linux.sh: downloading $packages (about 180 MB)"
# apt-get download checks each file against the hashes of the signed Release/Packages files
# shellcheck disable=SC2086
apt-get -q $apt_options download $packages >"$kit/apt/download.log" 2>&1 || {
    echo "get-linux.sh: apt-get download failed; see $kit/apt/download.log" >&2
    exit 69
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for a in i386 amd64; do
    dpkg-deb -x "$(ls busybox-static_*_$a.deb | tail -n 1)" "$work/busybox-$a"
    [ -x "$work/busybox-$a/bin/busybox" ] ||
        { echo "get-linux.sh: busybox-static ($a) has no /bin/busybox" >&2; exit 65; }
done
for program in threads vdso; do
    # shellcheck disable=SC2086
    if ! gcc $threads_cflags -o "$work/x86irq-$program" "$here/examples/linux/$program.c" \
        >"$work/gcc.log" 2>&1; then
        cat "$work/gcc.log" >&2
        echo "get-linux.sh: gcc -m32 cannot build examples/linux/$program.c" >&2
        exit 69
    fi
done
# shellcheck disable=SC2086
if ! gcc $vdso64_cflags -o "$work/x86irq-vdso64" "$here/examples/linux/vdso.c" \
    >"$work/gcc.log" 2>&1; then
    cat "$work/gcc.log" >&2
    echo "get-linux.sh: gcc -m64 cannot build examples/linux/vdso.c" >&2
    exit 69
fi

for f in $flavours; do
    arch=$(arch_of "$f")
    busybox="$work/busybox-$arch/bin/busybox"
    p=$(cat "$kit/.package-$f")
    deb=$(ls "${p}"_*_$arch.deb | tail -n 1)
    rm -rf "$work/k"
    dpkg-deb -x "$deb" "$work/k"
    version=${p#linux-image-}
    mkdir -p "$kit/$f"
    vmlinuz="$work/k/boot/vmlinuz-$version"
    e1000=$(find "$work/k/lib/modules/$version" -name e1000.ko | head -n 1)
    if [ ! -s "$vmlinuz" ] || [ -z "$e1000" ]; then
        echo "get-linux.sh: $deb lacks vmlinuz-$version or e1000.ko" >&2
        exit 65
    fi
    # a bzImage carries "HdrS" at offset 0x202
    if [ "$(dd if="$vmlinuz" bs=1 skip=514 count=4 2>/dev/null)" != "HdrS" ]; then
        echo "get-linux.sh: $vmlinuz is not a bzImage" >&2
        exit 65
    fi
    cp "$vmlinuz" "$kit/$f/bzImage.new" && mv "$kit/$f/bzImage.new" "$kit/$f/bzImage"
    cp "$e1000" "$kit/$f/e1000.ko"
    cp "$work/k/boot/config-$version" "$kit/$f/config"
    cp "$work/k/boot/System.map-$version" "$kit/$f/System.map"

    # the initramfs: busybox, x86irq-threads, x86irq-vdso, e1000.ko and /init
    # (examples/linux/init)
    root="$work/root-$f"
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/lib/modules" "$root/tmp"
    cp "$busybox" "$root/bin/busybox"
    programs="threads vdso"
    [ "$arch" = amd64 ] && programs="$programs vdso64"
    for program in $programs; do
        cp "$work/x86irq-$program" "$root/bin/x86irq-$program"
        chmod 755 "$root/bin/x86irq-$program"
    done
    cp "$e1000" "$root/lib/modules/e1000.ko"
    cp "$here/examples/linux/init" "$root/init"
    chmod 755 "$root/init"
    # fixed times and owners, inodes numbered in order, no device numbers: the same packages
    # (and the same gcc) give the same initrd, byte for byte
    find "$root" -exec touch -h -d @1767225600 {} +
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
        gzip -n -9 > "$kit/$f/initrd.gz.new"
    mv "$kit/$f/initrd.gz.new" "$kit/$f/initrd.gz"
    echo "$version" > "$kit/$f/VERSION"
    echo "$init_sum" > "$kit/$f/INIT"
    echo "get-linux.sh: $kit/$f: $(cat "$kit/$f/VERSION"), bzImage $(wc -c < "$kit/$f/bzImage") bytes, initrd $(wc -c < "$kit/$f/initrd.gz") bytes"
done
complete || { echo "get-linux.sh: the kit is incomplete" >&2; exit 70; }
echo "get-linux.sh: the kit is complete in $kit"
