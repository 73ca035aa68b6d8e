#!/bin/sh
# Links a long-mode guest: compiles and links with the given compiler command as ELF64, then
# converts it to ELF32 (objcopy -O elf32-i386), the Multiboot kernel format QEMU's -kernel and
# x86irq-run load; everything lies below 4 GiB, so no address is lost.
# Usage: link64.sh OBJCOPY OUTPUT CC [ARG...]
set -e
objcopy=$1
out=$2
shift 2
"$@" -o "$out.64"
"$objcopy" -O elf32-i386 "$out.64" "$out"
rm -f "$out.64"
