/* fw_cfg (see fw_cfg.h). Items are built on the fly from the machine's configuration; a read
 * past an item's end gives 0, an unknown selector reads as an empty item. */
#include "devices/fw_cfg.h"

#include <string.h>

void x86_fw_cfg_init(struct x86_fw_cfg *f, uint64_t ram_size, uint16_t cpu_count)
{
    memset(f, 0, sizeof(*f));
    f->ram_size = ram_size;
    f->cpu_count = cpu_count;
}

/* The selected item's bytes into buf (at most 16); returns its length. */
static uint32_t item(const struct x86_fw_cfg *f, uint8_t *buf)
{
    switch (f->selector) {
    case X86_FW_CFG_SIGNATURE:
        memcpy(buf, "QEMU", 4);
        return 4;
    case X86_FW_CFG_ID:
        buf[0] = 1; /* bit 0: the traditional interface; no DMA interface */
        buf[1] = buf[2] = buf[3] = 0;
        return 4;
    case X86_FW_CFG_RAM_SIZE:
        for (unsigned i = 0; i < 8; i++)
            buf[i] = (uint8_t)(f->ram_size >> (8 * i)); /* little-endian */
        return 8;
    case X86_FW_CFG_NB_CPUS:
    case X86_FW_CFG_MAX_CPUS:
        buf[0] = (uint8_t)f->cpu_count;
        buf[1] = (uint8_t)(f->cpu_count >> 8);
        return 2;
    case X86_FW_CFG_FILE_DIR:
        memset(buf, 0, 4); /* big-endian count of files: none */
        return 4;
    default:
        return 0;
    }
}

uint64_t x86_fw_cfg_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_fw_cfg *f = opaque;
    if (offset != 1)
        return ~0ull; /* the selector port is write-only */
    uint8_t buf[16];
    uint32_t length = item(f, buf);
    uint64_t v = 0;
    /* wider reads of the data port return consecutive bytes, as QEMU does */
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = f->offset < length ? buf[f->offset] : 0;
        if (f->offset < length)
            f->offset++;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

void x86_fw_cfg_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_fw_cfg *f = opaque;
    (void)size;
    if (offset == 0) {
        f->selector = (uint16_t)value;
        f->offset = 0;
    }
    /* writes to the data port are ignored (QEMU 2.4+) */
}

x86irq_status x86_fw_cfg_attach(struct x86_fw_cfg *f, struct x86_bus *bus, uint16_t base)
{
    return x86_bus_add_ports(bus, base, 2, x86_fw_cfg_read, x86_fw_cfg_write, f, "fw_cfg");
}
