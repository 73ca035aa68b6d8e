/* Embedding libx86irq: a host program that adds its own MMIO device, loads a guest and runs it
 * in cycle slices. It uses only the installed API:
 *
 *   cc doorbell.c $(pkg-config --cflags --libs x86irq) -o doorbell
 *   ./doorbell embed-guest.elf
 *
 * The device ("doorbell", at 0xFE000000) records each write with the cycle it arrived at;
 * offset 4 reads back the number of writes. Exit status 0 when the guest rang five times with
 * the values 100..500 and exited 0. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <x86irq/x86irq.h>

struct doorbell {
    x86irq_machine *machine;
    uint32_t values[16];
    uint64_t cycles[16];
    unsigned rings;
};

static uint64_t doorbell_read(void *opaque, uint64_t offset, unsigned size)
{
    struct doorbell *d = opaque;
    (void)size;
    return offset == 4 ? d->rings : 0;
}

static void doorbell_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct doorbell *d = opaque;
    (void)size;
    if (offset == 0 && d->rings < 16) {
        d->values[d->rings] = (uint32_t)value;
        d->cycles[d->rings] = x86irq_cycles(d->machine);
        d->rings++;
    }
}

static void serial(void *opaque, uint8_t byte)
{
    (void)opaque;
    putchar(byte);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: doorbell GUEST.elf\n");
        return 2;
    }
    x86irq_config config;
    x86irq_config_init(&config);
    config.ram_size = 32u << 20;
    x86irq_machine *m;
    if (x86irq_machine_create(&config, &m) != X86IRQ_OK)
        return 1;
    struct doorbell bell = { .machine = m };
    if (x86irq_add_mmio_device(m, 0xFE000000u, 0x1000, doorbell_read, doorbell_write, &bell) !=
            X86IRQ_OK ||
        x86irq_load_elf(m, argv[1], NULL) != X86IRQ_OK) {
        fprintf(stderr, "doorbell: %s\n", x86irq_last_error(m));
        x86irq_machine_destroy(m);
        return 1;
    }
    x86irq_set_serial_output(m, serial, NULL);

    /* run in slices of 20000 cycles, as a simulator would interleave its other components */
    x86irq_stop_reason reason = X86IRQ_STOP_BUDGET;
    unsigned slices = 0;
    while (reason == X86IRQ_STOP_BUDGET && slices < 100000) {
        if (x86irq_run(m, 20000, &reason) != X86IRQ_OK)
            break;
        slices++;
        if (slices % 10 == 0)
            printf("doorbell: after slice %u the machine is at cycle %" PRIu64 "\n", slices,
                   x86irq_cycles(m));
    }
    printf("doorbell: stopped (%s) after %u slices, %" PRIu64 " cycles\n",
           x86irq_stop_reason_string(reason), slices, x86irq_cycles(m));
    int ok = reason == X86IRQ_STOP_DEBUG_EXIT && x86irq_exit_value(m) == 0 && bell.rings == 5;
    for (unsigned i = 0; i < bell.rings; i++) {
        printf("doorbell: ring %u value %u at cycle %" PRIu64 "\n", i + 1, bell.values[i],
               bell.cycles[i]);
        ok = ok && bell.values[i] == (i + 1) * 100 && (i == 0 || bell.cycles[i] > bell.cycles[i - 1]);
    }
    x86irq_machine_destroy(m);
    printf("doorbell: %s\n", ok ? "the device saw what the guest did" : "MISMATCH");
    return ok ? 0 : 1;
}
