/* Embedding libx86irq with interrupts: the host's own device model raises an interrupt line at
 * cycles it chooses, and the guest's handler services it. Only the installed API is used:
 *
 *   cc sensor.c $(pkg-config --cflags --libs x86irq) -o sensor
 *   ./sensor sensor-guest.elf
 *
 * The "sensor" has one MMIO register at 0xFE001000. At each scheduled cycle it takes a sample
 * (10, 20, ... 50) and asserts interrupt line 5 (level); the guest's read of the register
 * returns the sample and deasserts the line. The host prints when it raised each interrupt and
 * how many cycles later the guest's handler read the sample (the interrupt latency). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <x86irq/x86irq.h>

#define SENSOR_BASE 0xFE001000u
#define SENSOR_LINE 5u
#define SAMPLES 5

struct sensor {
    x86irq_machine *machine;
    uint32_t value;
    int ready;
    unsigned taken, read;
    uint64_t raised_at[SAMPLES], read_at[SAMPLES];
};

static void take_sample(x86irq_machine *machine, void *opaque)
{
    struct sensor *s = opaque;
    s->value = 10 * (s->taken + 1);
    s->raised_at[s->taken++] = x86irq_cycles(machine);
    s->ready = 1;
    x86irq_set_irq_line(machine, SENSOR_LINE, 1);
}

static uint64_t sensor_read(void *opaque, uint64_t offset, unsigned size)
{
    struct sensor *s = opaque;
    (void)offset;
    (void)size;
    if (s->ready && s->read < SAMPLES)
        s->read_at[s->read++] = x86irq_cycles(s->machine);
    s->ready = 0;
    x86irq_set_irq_line(s->machine, SENSOR_LINE, 0); /* serviced: the line drops */
    return s->value;
}

static void serial(void *opaque, uint8_t byte)
{
    (void)opaque;
    putchar(byte);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s sensor-guest.elf\n", argv[0]);
        return 64;
    }
    x86irq_machine *m;
    if (x86irq_machine_create(NULL, &m) != X86IRQ_OK)
        return 70;
    struct sensor s = { .machine = m };
    x86irq_set_serial_output(m, serial, NULL);
    if (x86irq_add_mmio_device(m, SENSOR_BASE, 0x1000, sensor_read, NULL, &s) != X86IRQ_OK ||
        x86irq_load_elf(m, argv[1], NULL) != X86IRQ_OK) {
        fprintf(stderr, "sensor: %s\n", x86irq_last_error(m));
        x86irq_machine_destroy(m);
        return 65;
    }
    /* samples at chosen cycles, while the guest sleeps in HLT in between */
    for (unsigned i = 0; i < SAMPLES; i++)
        x86irq_schedule_event(m, 1000000 + 250000 * (uint64_t)i, take_sample, &s, NULL);
    x86irq_stop_reason reason;
    x86irq_run(m, 100000000, &reason);
    fflush(stdout);
    for (unsigned i = 0; i < s.read; i++)
        printf("sensor: sample %u raised at cycle %" PRIu64 ", read by the guest %" PRIu64
               " cycles later\n", i + 1, s.raised_at[i], s.read_at[i] - s.raised_at[i]);
    int ok = reason == X86IRQ_STOP_DEBUG_EXIT && x86irq_exit_value(m) == 0 && s.read == SAMPLES;
    printf("sensor: %s\n", ok ? "every sample was serviced" : "FAILED");
    x86irq_machine_destroy(m);
    return ok ? 0 : 1;
}
