#!/bin/sh
# Links a long-mode guest: compiles and links with the given compiler command as ELF64, then
# converts it to ELF32 (objcopy -O elf32-i386), the Multiboot kernel format QEMU's -kernel
# loads (x86irq-run loads both); everything lies below 4 GiB, so no address is lost. With
# --elf64 instead of OBJCOPY the ELF64 file is the output (what GRUB and x86irq-run load).
# Usage: link64.sh OBJCOPY|--elf64 OUTPUT CC [ARG...]
set -e
objcopy=$1
out=$2
shift 2
if [ "$objcopy" = --elf64 ]; then
    exec "$@" -o "$out"
fi
"$@" -o "$out.64"
"$objcopy" -O elf32-i386 "$out.64" "$out"
rm -f "$out.64"
