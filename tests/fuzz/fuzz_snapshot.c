/* Fuzz target for the snapshot reader (src/machine/snapshot_format.c, snapshot_state.c), through
 * the public API: the input is restored into a small running machine either as it is, or as
 * byte patches over a valid snapshot of that machine, with both checksums made right again when
 * the input says so (then the header's fields, the sections, the struct images' indices, the
 * event table and the RAM stream are what is tested, not only the checksums). Properties: a
 * restore is X86IRQ_OK or X86IRQ_ERR_BAD_SNAPSHOT with a message; a refused one leaves the
 * machine as it was (it saves the same bytes as before, and runs on); a restored machine runs.
 * A later restore of the valid snapshot puts the machine back. Mode bit 4: the same with a
 * delta snapshot (its RAM against the valid one), restored over the valid one as its base. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <x86irq/x86irq.h>

#define RAM (4u << 20)
#define CODE 0x1000u
#define RUN 3000u          /* cycles run after a restore */
#define HEADER 128u        /* the header's size (docs/debugging.md, "Snapshot format") */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static x86irq_machine *machine;
static uint8_t *valid;     /* a snapshot of the machine mid-run */
static size_t valid_size;
static uint8_t *delta;     /* a delta against it, later in the run */
static size_t delta_size;

/* a guest that keeps state moving: rep stosd over a buffer, a counter, a loop */
static void start_guest(x86irq_machine *m)
{
    static const uint8_t code[] = {
        0xBF, 0x00, 0x20, 0x00, 0x00, /* mov edi, 0x2000 */
        0xB9, 0x00, 0x01, 0x00, 0x00, /* mov ecx, 256 */
        0xF3, 0xAB,                   /* rep stosd */
        0x40,                         /* inc eax */
        0xEB, 0xF1,                   /* jmp back to the mov edi */
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
    if (x86irq_machine_create(&c, &machine) != X86IRQ_OK)
        abort();
    start_guest(machine);
    x86irq_stop_reason reason;
    void *bytes;
    if (x86irq_run(machine, 5000, &reason) != X86IRQ_OK ||
        x86irq_snapshot_save(machine, &bytes, &valid_size) != X86IRQ_OK)
        abort();
    valid = bytes;
    if (x86irq_run(machine, 5000, &reason) != X86IRQ_OK ||
        x86irq_snapshot_save_delta(machine, valid, valid_size, &bytes, &delta_size) !=
            X86IRQ_OK)
        abort();
    delta = bytes;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* the payload's CRC (bytes 120-123) and the header's (124-127), as a writer would set them */
static void fix_checksums(uint8_t *p, size_t size)
{
    if (size < HEADER)
        return;
    uLong crc = crc32(0, Z_NULL, 0);
    for (size_t at = HEADER; at < size;) {
        size_t n = size - at > (1u << 30) ? (1u << 30) : size - at;
        crc = crc32(crc, p + at, (uInt)n);
        at += n;
    }
    put_u32(p + 120, (uint32_t)crc);
    put_u32(p + 124, (uint32_t)crc32(crc32(0, Z_NULL, 0), p, 124));
}

static void must_run(x86irq_machine *m)
{
    x86irq_stop_reason reason;
    x86irq_status s = x86irq_run(m, RUN, &reason);
    /* a restored machine runs, or has ended (a patched image may say it has stopped) */
    if (s != X86IRQ_OK && s != X86IRQ_ERR_STATE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!machine)
        set_up();
    if (size == 0)
        return 0;
    uint8_t *image;
    size_t image_size;
    uint8_t mode = data[0];
    bool as_delta = mode & 16;
    const uint8_t *source = as_delta ? delta : valid;
    size_t source_size = as_delta ? delta_size : valid_size;
    if (mode & 1) {
        /* patches over the valid snapshot: (3-byte offset, value) after the mode byte, offsets
         * aimed at the header and the sections' starts often (mode bit 2), a truncation
         * (bit 3) */
        image_size = source_size;
        image = malloc(image_size);
        if (!image)
            abort();
        memcpy(image, source, image_size);
        for (size_t i = 1; i + 3 < size; i += 4) {
            size_t at = ((size_t)data[i] | (size_t)data[i + 1] << 8 | (size_t)data[i + 2] << 16);
            at %= (mode & 4) ? (HEADER + 4096 < image_size ? HEADER + 4096 : image_size)
                             : image_size;
            image[at] = data[i + 3];
        }
        if ((mode & 8) && size > 1)
            image_size = image_size * data[size - 1] / 256;
        if (mode & 2)
            fix_checksums(image, image_size);
    } else {
        image_size = size - 1;
        image = malloc(image_size ? image_size : 1);
        if (!image)
            abort();
        memcpy(image, data + 1, image_size);
        if (mode & 2)
            fix_checksums(image, image_size);
    }

    void *before;
    size_t before_size;
    if (x86irq_snapshot_save(machine, &before, &before_size) != X86IRQ_OK)
        abort();
    x86irq_status s = as_delta ? x86irq_snapshot_restore_delta(machine, valid, valid_size, image,
                                                               image_size)
                               : x86irq_snapshot_restore(machine, image, image_size);
    if (s == X86IRQ_OK) {
        must_run(machine);
    } else {
        const char *why = x86irq_last_error(machine);
        if (s != X86IRQ_ERR_BAD_SNAPSHOT || !why || !why[0])
            abort();
        /* left as it was: the same bytes, and it runs on */
        void *after;
        size_t after_size;
        if (x86irq_snapshot_save(machine, &after, &after_size) != X86IRQ_OK)
            abort();
        if (after_size != before_size || memcmp(after, before, before_size) != 0)
            abort();
        x86irq_snapshot_free(after);
        must_run(machine);
    }
    x86irq_snapshot_free(before);
    free(image);
    /* back to the valid state for the next input */
    if (x86irq_snapshot_restore(machine, valid, valid_size) != X86IRQ_OK)
        abort();
    return 0;
}
