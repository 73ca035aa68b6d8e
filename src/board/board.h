/* The PC board: what the firmware of a PC leaves in memory and in the processor before a
 * kernel runs (the memory map, the BIOS data area, the boot GDTs and entry states of the
 * Multiboot and Linux boot protocols), and the wiring of the chipset. */
#ifndef X86IRQ_BOARD_BOARD_H
#define X86IRQ_BOARD_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "x86irq/x86irq.h"
#include "loader/loader.h"

struct x86_cpu;

#define X86_BOARD_MAP_MAX 8
/* ESP at the Multiboot and Linux entries: where QEMU 7.2's option ROM leaves it */
#define X86_BOOT_STACK 0x6F08u

/* The e820 map of a machine with ram_size bytes of RAM, as SeaBIOS reports it under QEMU:
 * conventional memory below the EBDA, the EBDA and the BIOS area (0xE0000-0xFFFFF, where the
 * firmware tables are) reserved, RAM from 1 MiB, the BIOS ROM alias below 4 GiB reserved.
 * Returns the number of entries (at most max). */
unsigned x86_board_memory_map(uint64_t ram_size, struct x86_e820_entry *map, unsigned max);

/* The processor state the firmware leaves (SeaBIOS under QEMU): MTRRs enabled with write-back
 * RAM and the MMIO hole from 0xC0000000 uncached, the legacy video window uncached;
 * MSR_PLATFORM_INFO's ratio from the modelled clock. */
void x86_board_firmware_cpu_state(struct x86_cpu *cpu, uint64_t cpu_hz);

/* Enter a loaded ELF guest at entry in flat 32-bit protected mode (QEMU's Multiboot state:
 * its boot GDT with code at 0x08 and data at 0x10); with multiboot, EAX = 0x2BADB002 and
 * EBX = info. */
void x86_board_enter_multiboot(x86irq_machine *machine, uint64_t entry, uint32_t info,
                               bool multiboot);
/* Enter an ELF64 executable without a Multiboot header at entry in 64-bit mode: the loader's
 * identity map of the first 4 GiB (X86_LOADER_PAGE_TABLES, 1 GiB pages), a boot GDT with a
 * 64-bit code segment at 0x08 and flat data at 0x10, RSP = X86_BOOT_STACK, IF = 0, the other
 * general registers 0. */
void x86_board_enter_elf64(x86irq_machine *machine, uint64_t entry);
/* Enter a loaded Linux kernel through the 32-bit boot protocol (boot.rst): a boot GDT with
 * flat __BOOT_CS at 0x10 and __BOOT_DS at 0x18, ESI = boot_params, EBP = EDI = EBX = 0. */
void x86_board_enter_linux32(x86irq_machine *machine, const struct x86_linux_boot *boot);
/* Enter an x86-64 kernel through the 64-bit boot protocol (boot.rst) at entry64: 64-bit mode on
 * the loader's identity map of the first 4 GiB, __BOOT_CS (64-bit) at 0x10 and __BOOT_DS at
 * 0x18, RSI = boot_params, IF = 0. */
void x86_board_enter_linux64(x86irq_machine *machine, const struct x86_linux_boot *boot);

/* Create the machine's devices (UART, debug exit, phase port unless no_default_devices; the
 * LAPIC; the chipset: IOAPIC, 8259 pair, PIT, PCI with the NIC, pc-testdev; fw_cfg) wired and
 * in the state the firmware leaves them. false: out of memory (the caller destroys). */
bool x86_board_create_devices(x86irq_machine *machine);

/* The machine's processors (config.cpus): each core with its LAPIC on the APIC bus; the BSP
 * at the flat 32-bit entry, the APs waiting for SIPI (cores.c). false: out of memory (the
 * caller destroys). */
bool x86_board_create_cores(x86irq_machine *machine, unsigned count);
void x86_board_destroy_cores(x86irq_machine *machine);

/* A timer of the HPET drives IOAPIC input `pin` directly (not through an ISA IRQ) */
void x86_board_set_ioapic_pin_source(x86irq_machine *machine, unsigned pin, int level);

/* An MSI write reaching the processors' APIC bus (cores.c) */
struct x86_msi_message;
void x86_board_send_msi(void *context, const struct x86_msi_message *msg);

#endif
