/* QEMU's fw_cfg, traditional I/O interface (QEMU docs/specs/fw_cfg.rst): a 16-bit selector
 * port and a byte-wide data port. The subset guests use to learn about the machine. */
#ifndef X86IRQ_DEVICES_FW_CFG_H
#define X86IRQ_DEVICES_FW_CFG_H

#include <stdint.h>

#include "platform/bus.h"

#define X86_FW_CFG_SIGNATURE 0x0000
#define X86_FW_CFG_ID 0x0001
#define X86_FW_CFG_RAM_SIZE 0x0003
#define X86_FW_CFG_NB_CPUS 0x0005
#define X86_FW_CFG_MAX_CPUS 0x000F
#define X86_FW_CFG_FILE_DIR 0x0019

struct x86_fw_cfg {
    uint16_t selector;
    uint32_t offset;        /* read position in the selected item */
    uint64_t ram_size;
    uint16_t cpu_count;
};

void x86_fw_cfg_init(struct x86_fw_cfg *f, uint64_t ram_size, uint16_t cpu_count);
x86irq_status x86_fw_cfg_attach(struct x86_fw_cfg *f, struct x86_bus *bus, uint16_t base);
uint64_t x86_fw_cfg_read(void *opaque, uint64_t offset, unsigned size);
void x86_fw_cfg_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

#endif
