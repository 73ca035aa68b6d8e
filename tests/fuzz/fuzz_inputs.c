/* Fuzz target for the reader of host-input recordings (src/machine/inputs.c), through the
 * public API: the input is given to x86irq_replay_start as it is, or as byte patches over a
 * valid recording of a small machine's session with its CRC made right again (then the
 * records' kinds, positions, lengths and payloads are what is tested). Properties: a start is
 * X86IRQ_OK or X86IRQ_ERR_BAD_RECORDING with a message; a refused one changes nothing (the
 * embedder's own input is still taken); an accepted one replays: its runs end X86IRQ_OK or
 * X86IRQ_ERR_STATE with a message (a divergence), never anything else. A snapshot puts the
 * machine back for the next input. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <x86irq/x86irq.h>

#define RAM (4u << 20)
#define CODE 0x1000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static x86irq_machine *machine;
static void *start;        /* a snapshot of the machine before the session */
static size_t start_size;
static uint8_t *valid;     /* the session's recording */
static size_t valid_size;

/* a guest that counts in a loop with interrupts enabled (an IDT of nothing: an interrupt
 * faults its way to a shutdown, which is fine: the same in every replay) */
static void start_guest(x86irq_machine *m)
{
    static const uint8_t code[] = {
        0x40,       /* inc eax */
        0xEB, 0xFD, /* jmp back */
    };
    if (x86irq_write_physical(m, CODE, code, sizeof(code)) != X86IRQ_OK ||
        x86irq_set_register(m, X86IRQ_REG_CR0, 0x11) != X86IRQ_OK)
        abort();
    static const x86irq_register segments[] = { X86IRQ_REG_CS, X86IRQ_REG_DS, X86IRQ_REG_ES,
                                                X86IRQ_REG_SS };
    for (size_t i = 0; i < sizeof(segments) / sizeof(segments[0]); i++)
        if (x86irq_set_register(m, segments[i], i == 0 ? 0x08 : 0x10) != X86IRQ_OK)
            abort();
    if (x86irq_set_register(m, X86IRQ_REG_ESP, 0x9000) != X86IRQ_OK ||
        x86irq_set_register(m, X86IRQ_REG_EIP, CODE) != X86IRQ_OK)
        abort();
}

static void set_up(void)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = RAM;
    c.cpus = 2;
    if (x86irq_machine_create(&c, &machine) != X86IRQ_OK)
        abort();
    start_guest(machine);
    if (x86irq_snapshot_save(machine, &start, &start_size) != X86IRQ_OK ||
        x86irq_record_start(machine) != X86IRQ_OK)
        abort();
    /* a session: runs, with serial bytes, NIC frames and line pulses between them */
    uint8_t frame[60] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    for (unsigned i = 0; i < 12; i++) {
        x86irq_stop_reason reason;
        if (x86irq_run(machine, 700 + 311 * i, &reason) != X86IRQ_OK)
            abort();
        if (i % 3 == 0)
            (void)x86irq_serial_input(machine, "ab", 2);
        else if (i % 3 == 1)
            (void)x86irq_nic_receive(machine, frame, sizeof(frame));
        else
            (void)x86irq_pulse_irq_line(machine, 5);
    }
    void *bytes;
    if (x86irq_record_save(machine, &bytes, &valid_size) != X86IRQ_OK ||
        x86irq_record_stop(machine) != X86IRQ_OK)
        abort();
    valid = bytes;
}

static void fix_checksum(uint8_t *p, size_t size)
{
    if (size < 4)
        return;
    uint32_t crc = (uint32_t)crc32(crc32(0, Z_NULL, 0), p, (uInt)(size - 4));
    for (int i = 0; i < 4; i++)
        p[size - 4 + i] = (uint8_t)(crc >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!machine)
        set_up();
    if (size == 0)
        return 0;
    if (x86irq_snapshot_restore(machine, start, start_size) != X86IRQ_OK)
        abort();
    uint8_t mode = data[0];
    size_t image_size;
    uint8_t *image;
    if (mode & 1) {
        /* patches over the valid recording: (2-byte offset, value) after the mode byte; a
         * truncation (bit 2); the CRC made right (bit 1) */
        image_size = valid_size;
        image = malloc(image_size);
        if (!image)
            abort();
        memcpy(image, valid, image_size);
        for (size_t i = 1; i + 2 < size; i += 3) {
            size_t at = ((size_t)data[i] | (size_t)data[i + 1] << 8) % image_size;
            image[at] = data[i + 2];
        }
        if ((mode & 4) && size > 1)
            image_size = image_size * data[size - 1] / 256;
    } else {
        image_size = size - 1;
        image = malloc(image_size ? image_size : 1);
        if (!image)
            abort();
        memcpy(image, data + 1, image_size);
    }
    if (mode & 2)
        fix_checksum(image, image_size);
    x86irq_status s = x86irq_replay_start(machine, image, image_size);
    free(image);
    if (s != X86IRQ_OK) {
        const char *why = x86irq_last_error(machine);
        if (s != X86IRQ_ERR_BAD_RECORDING || !why || !why[0] ||
            x86irq_replay_remaining(machine) != 0)
            abort();
        /* nothing changed: the embedder's input is taken */
        if (x86irq_serial_input(machine, "z", 1) != X86IRQ_OK)
            abort();
        return 0;
    }
    for (unsigned i = 0; i < 4; i++) {
        x86irq_stop_reason reason;
        s = x86irq_run(machine, 4000, &reason);
        if (s == X86IRQ_ERR_STATE) {
            const char *why = x86irq_last_error(machine);
            if (!why || !why[0])
                abort();
            break;
        }
        if (s != X86IRQ_OK)
            abort();
    }
    if (x86irq_replay_stop(machine) != X86IRQ_OK)
        abort();
    return 0;
}
