/* Unit tests of src/devices/pic8259: the 8259A pair as SeaBIOS and Linux program it, masking,
 * priorities and nesting, EOI commands, automatic EOI, the cascade, the default IR7, edge and
 * level triggering, the ELCR, polling, special mask mode, special fully nested mode, rotation,
 * status reads, the output wire and the port map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pic8259.h"

#define M X86_PIC_MASTER
#define S X86_PIC_SLAVE

struct wire_log { int level, calls; };
static void on_output(void *opaque, int line, int level)
{
    struct wire_log *log = opaque;
    assert_int_equal(line, 0);
    log->level = level;
    log->calls++;
}

static void command(struct x86_pic_pair *pic, unsigned chip, uint8_t value)
{
    x86_pic_write(&pic->chip[chip], 0, 1, value);
}
static void data(struct x86_pic_pair *pic, unsigned chip, uint8_t value)
{
    x86_pic_write(&pic->chip[chip], 1, 1, value);
}
static uint8_t read_command(struct x86_pic_pair *pic, unsigned chip)
{
    return (uint8_t)x86_pic_read(&pic->chip[chip], 0, 1);
}
static uint8_t read_data(struct x86_pic_pair *pic, unsigned chip)
{
    return (uint8_t)x86_pic_read(&pic->chip[chip], 1, 1);
}
static uint8_t read_isr(struct x86_pic_pair *pic, unsigned chip)
{
    command(pic, chip, 0x0B); /* OCW3: read ISR */
    uint8_t isr = read_command(pic, chip);
    command(pic, chip, 0x0A); /* back to IRR */
    return isr;
}
static void raise_line(struct x86_pic_pair *pic, unsigned irq) { x86_pic_set_irq(pic, irq, 1); }
static void lower_line(struct x86_pic_pair *pic, unsigned irq) { x86_pic_set_irq(pic, irq, 0); }
static void pulse_line(struct x86_pic_pair *pic, unsigned irq)
{
    lower_line(pic, irq);
    raise_line(pic, irq);
}

/* The PC/AT initialisation: ICW1 edge, cascade, ICW4; ICW2 the base; ICW3 slave on IR2 / ID 2;
 * ICW4 8086 mode (plus icw4_extra); then every input unmasked except as given */
static void program_pair(struct x86_pic_pair *pic, struct wire_log *log, uint8_t master_base,
                         uint8_t slave_base, uint8_t icw4_extra)
{
    x86_pic_init(pic);
    pic->output = (struct x86_irq_wire){ on_output, log, 0 };
    command(pic, M, 0x11);
    data(pic, M, master_base);
    data(pic, M, 0x04);
    data(pic, M, (uint8_t)(0x01 | icw4_extra));
    command(pic, S, 0x11);
    data(pic, S, slave_base);
    data(pic, S, 0x02);
    data(pic, S, (uint8_t)(0x01 | icw4_extra));
}

static void test_pic_power_on(void **state)
{
    (void)state;
    struct x86_pic_pair pic;
    x86_pic_init(&pic);
    assert_int_equal(read_data(&pic, M), 0xFF); /* all masked until programmed */
    assert_int_equal(read_data(&pic, S), 0xFF);
    raise_line(&pic, 1);
    assert_false(x86_pic_output(&pic));
    assert_int_equal(x86_pic_irr(&pic, M), 0x02); /* the IRR is not affected by the IMR */
    assert_int_equal(x86_pic_elcr_read(&pic, 0, 2), 0x0000);
}

static void test_pic_seabios_init(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    assert_int_equal(read_data(&pic, M), 0x00); /* ICW1 cleared the IMR */
    assert_int_equal(read_data(&pic, S), 0x00);
    data(&pic, M, 0xFB); /* SeaBIOS: all masked but the cascade */
    data(&pic, S, 0xFF);
    assert_int_equal(read_data(&pic, M), 0xFB);
    assert_int_equal(read_data(&pic, S), 0xFF);
    data(&pic, M, 0xFA);
    raise_line(&pic, 0);
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x08);
    command(&pic, M, 0x20);
    data(&pic, S, 0xFE);
    raise_line(&pic, 8);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x70);
    assert_int_equal(pic.chip[S].icw3, 2);
    assert_int_equal(pic.chip[M].icw3, 4);
}

static void test_pic_linux_init(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    x86_pic_init(&pic);
    pic.output = (struct x86_irq_wire){ on_output, &log, 0 };
    /* Linux init_8259A(): mask all, then ICW1-4 on both chips, the low ICW2 bits ignored */
    data(&pic, M, 0xFF);
    data(&pic, S, 0xFF);
    command(&pic, M, 0x11);
    data(&pic, M, 0x27);
    data(&pic, M, 0x04);
    data(&pic, M, 0x01);
    command(&pic, S, 0x11);
    data(&pic, S, 0x28);
    data(&pic, S, 0x02);
    data(&pic, S, 0x01);
    assert_int_equal(pic.chip[M].init_step, 0);
    assert_int_equal(pic.chip[S].init_step, 0);
    assert_int_equal(pic.chip[M].icw4, 0x01);
    raise_line(&pic, 1);
    raise_line(&pic, 14);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x21);
    command(&pic, M, 0x61); /* Linux: specific EOI */
    assert_int_equal(x86_pic_acknowledge(&pic), 0x2E);
    command(&pic, S, 0x66);
    command(&pic, M, 0x62);
    assert_int_equal(read_isr(&pic, M), 0);
    assert_int_equal(read_isr(&pic, S), 0);
    assert_false(x86_pic_output(&pic));
}

static void test_pic_single_mode_without_icw3(void **state)
{
    (void)state;
    struct x86_pic_pair pic;
    x86_pic_init(&pic);
    command(&pic, M, 0x13); /* SNGL, IC4: ICW3 skipped */
    data(&pic, M, 0x40);
    data(&pic, M, 0x01);    /* this is ICW4, not ICW3 */
    assert_int_equal(pic.chip[M].icw4, 0x01);
    data(&pic, M, 0x5A);    /* then OCW1 */
    assert_int_equal(read_data(&pic, M), 0x5A);
    data(&pic, M, 0x00);
    raise_line(&pic, 2);    /* no cascade in single mode: IR2 is the master's own */
    assert_int_equal(x86_pic_acknowledge(&pic), 0x42);
}

static void test_pic_mask(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x20, 0x28, 0);
    data(&pic, M, 0x08);
    raise_line(&pic, 3);
    assert_false(x86_pic_output(&pic));
    assert_int_equal(read_command(&pic, M), 0x08); /* requested, masked */
    data(&pic, M, 0x00);
    assert_true(x86_pic_output(&pic));
    data(&pic, M, 0x08);
    assert_false(x86_pic_output(&pic));
    data(&pic, M, 0x0C); /* masking the cascade hides the slave */
    raise_line(&pic, 9);
    assert_false(x86_pic_output(&pic));
    assert_int_equal(x86_pic_irr(&pic, M), 0x0C);
    data(&pic, M, 0x08);
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x29);
}

static void test_pic_priority(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    raise_line(&pic, 1);
    raise_line(&pic, 0);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x08); /* IR0 first */
    command(&pic, M, 0x20);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x09);
    command(&pic, M, 0x20);
    assert_false(x86_pic_output(&pic));
}

static void test_pic_nesting(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    raise_line(&pic, 3);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0B);
    assert_false(x86_pic_output(&pic));
    raise_line(&pic, 5);  /* lower than the level in service: held off */
    assert_false(x86_pic_output(&pic));
    raise_line(&pic, 3);  /* still high: no new edge */
    assert_false(x86_pic_output(&pic));
    raise_line(&pic, 1);  /* higher: interrupts the IR3 routine */
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x09);
    assert_int_equal(read_isr(&pic, M), 0x0A);
    command(&pic, M, 0x20); /* ends IR1 */
    assert_int_equal(read_isr(&pic, M), 0x08);
    assert_false(x86_pic_output(&pic));
    command(&pic, M, 0x20); /* ends IR3: IR5 gets through */
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0D);
}

static void test_pic_end_of_interrupt(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    raise_line(&pic, 6);
    (void)x86_pic_acknowledge(&pic);
    raise_line(&pic, 4);
    (void)x86_pic_acknowledge(&pic);
    raise_line(&pic, 1);
    (void)x86_pic_acknowledge(&pic);
    assert_int_equal(read_isr(&pic, M), 0x52);
    command(&pic, M, 0x66); /* specific EOI for IR6, out of order */
    assert_int_equal(read_isr(&pic, M), 0x12);
    command(&pic, M, 0x20); /* non-specific: the highest in service, IR1 */
    assert_int_equal(read_isr(&pic, M), 0x10);
    command(&pic, M, 0x40); /* OCW2 no-op */
    assert_int_equal(read_isr(&pic, M), 0x10);
    command(&pic, M, 0x20);
    assert_int_equal(read_isr(&pic, M), 0x00);
    command(&pic, M, 0x20); /* nothing in service: harmless */
    assert_int_equal(read_isr(&pic, M), 0x00);
}

static void test_pic_auto_eoi(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0x02); /* ICW4 AEOI */
    raise_line(&pic, 4);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0C);
    assert_int_equal(read_isr(&pic, M), 0x00);
    raise_line(&pic, 5); /* nothing in service: a lower level gets through at once */
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0D);
    /* rotation in AEOI mode: the level just serviced becomes the lowest priority */
    command(&pic, M, 0x80);
    pulse_line(&pic, 0);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x08);
    assert_int_equal(pic.chip[M].lowest_priority, 0);
    pulse_line(&pic, 0);
    pulse_line(&pic, 1);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x09); /* IR1 now ranks above IR0 */
    assert_int_equal(x86_pic_acknowledge(&pic), 0x08);
    command(&pic, M, 0x00); /* rotation in AEOI off */
    pulse_line(&pic, 3);
    (void)x86_pic_acknowledge(&pic);
    assert_int_equal(pic.chip[M].lowest_priority, 0);
}

static void test_pic_cascade(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    raise_line(&pic, 12);
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_irr(&pic, M), 0x04); /* the slave's INT on IR2 */
    assert_int_equal(x86_pic_acknowledge(&pic), 0x74);
    assert_int_equal(read_isr(&pic, M), 0x04);
    assert_int_equal(read_isr(&pic, S), 0x10);
    assert_false(x86_pic_output(&pic));
    /* a master input above IR2 still interrupts; one below does not */
    raise_line(&pic, 3);
    assert_false(x86_pic_output(&pic));
    raise_line(&pic, 1);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x09);
    command(&pic, M, 0x20);
    /* a higher slave request while IR12 is in service: the master's IR2 is in service too, so
     * in fully nested mode it waits */
    raise_line(&pic, 8);
    assert_false(x86_pic_output(&pic));
    command(&pic, S, 0x20);  /* EOI to the slave, then to the master, as Linux does */
    command(&pic, M, 0x20);
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x70);
    command(&pic, S, 0x20);
    command(&pic, M, 0x20);
    assert_true(x86_pic_output(&pic)); /* IR3 was waiting on the master */
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0B);
    command(&pic, M, 0x20);
    assert_false(x86_pic_output(&pic));
}

static void test_pic_cascade_address(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    /* the slave programmed with ID 3 does not answer cascade address 2: the bus floats */
    command(&pic, S, 0x11);
    data(&pic, S, 0x70);
    data(&pic, S, 0x03);
    data(&pic, S, 0x0D); /* 8086, buffered, M/S: stored, no effect on the vector */
    assert_int_equal(pic.chip[S].icw4, 0x0D);
    raise_line(&pic, 9);
    assert_int_equal(x86_pic_acknowledge(&pic), 0xFF);
    assert_int_equal(read_isr(&pic, M), 0x04);
    assert_int_equal(read_isr(&pic, S), 0x00);
    command(&pic, M, 0x20);
    /* a master whose ICW3 declares no slave on IR2 gives its own IR2 vector */
    command(&pic, M, 0x11);
    data(&pic, M, 0x08);
    data(&pic, M, 0x00);
    data(&pic, M, 0x01);
    pulse_line(&pic, 9);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0A);
}

static void test_pic_special_fully_nested(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    command(&pic, M, 0x11);
    data(&pic, M, 0x08);
    data(&pic, M, 0x04);
    data(&pic, M, 0x11); /* 8086 mode, SFNM */
    raise_line(&pic, 12);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x74);
    raise_line(&pic, 8); /* higher within the slave: recognised though IR2 is in service */
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x70);
    assert_int_equal(read_isr(&pic, S), 0x11);
    raise_line(&pic, 11); /* lower within the slave: the slave itself holds it off */
    assert_false(x86_pic_output(&pic));
    raise_line(&pic, 3);  /* lower on the master: still held off by IR2 */
    assert_false(x86_pic_output(&pic));
}

static void test_pic_spurious(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    /* nothing pending at all */
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0F);
    assert_int_equal(read_isr(&pic, M), 0x00);
    /* an edge request that drops before INTA */
    raise_line(&pic, 3);
    assert_true(x86_pic_output(&pic));
    lower_line(&pic, 3);
    assert_false(x86_pic_output(&pic));
    assert_int_equal(x86_pic_irr(&pic, M), 0x00);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0F);
    assert_int_equal(read_isr(&pic, M), 0x00); /* a default IR7 sets no ISR bit */
    /* a real IR7 does: the routine tells them apart through the ISR */
    raise_line(&pic, 7);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0F);
    assert_int_equal(read_isr(&pic, M), 0x80);
    command(&pic, M, 0x20);
    /* the master accepts IR2 but the slave has nothing: the slave's default IR7 (IRQ 15),
     * with the master's ISR bit 2 set, to be ended on the master only */
    raise_line(&pic, 2);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x77);
    assert_int_equal(read_isr(&pic, M), 0x04);
    assert_int_equal(read_isr(&pic, S), 0x00);
    lower_line(&pic, 2);
    command(&pic, M, 0x20);
    /* the slave's request dropping drops its INT, and so the master's IR2 request */
    raise_line(&pic, 10);
    assert_true(x86_pic_output(&pic));
    lower_line(&pic, 10);
    assert_false(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0F);
}

static void test_pic_edge_and_level(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    /* edge: a line held high interrupts once */
    raise_line(&pic, 4);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0C);
    assert_int_equal(x86_pic_irr(&pic, M), 0x00);
    command(&pic, M, 0x20);
    assert_false(x86_pic_output(&pic));
    pulse_line(&pic, 4); /* a new rising edge: a new interrupt */
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0C);
    command(&pic, M, 0x20);
    lower_line(&pic, 4);
    /* level through the ELCR: still high after the EOI, it interrupts again */
    x86_pic_elcr_write(&pic, 0, 1, 0x10);
    raise_line(&pic, 4);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0C);
    assert_int_equal(x86_pic_irr(&pic, M), 0x10); /* the IRR follows the line */
    assert_false(x86_pic_output(&pic));          /* held off by its own ISR bit */
    command(&pic, M, 0x20);
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0C);
    lower_line(&pic, 4);  /* the device is serviced */
    command(&pic, M, 0x20);
    assert_false(x86_pic_output(&pic));
    /* level through ICW1.LTIM on the slave, IRQ 11 */
    command(&pic, S, 0x19);
    data(&pic, S, 0x70);
    data(&pic, S, 0x02);
    data(&pic, S, 0x01);
    raise_line(&pic, 11);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x73);
    command(&pic, S, 0x20);
    command(&pic, M, 0x20);
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x73);
}

static void test_pic_initialisation_resets(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    raise_line(&pic, 5);
    (void)x86_pic_acknowledge(&pic);
    raise_line(&pic, 6);  /* pending behind IR5 */
    data(&pic, M, 0x01);
    command(&pic, M, 0xC3); /* priority: IR4 highest */
    command(&pic, M, 0x68); /* special mask mode */
    command(&pic, M, 0x0B); /* ISR reads */
    command(&pic, M, 0x11);  /* ICW1 again */
    assert_int_equal(read_data(&pic, M), 0x00);        /* IMR cleared */
    assert_int_equal(read_command(&pic, M), 0x00);     /* IRR read, edge latches cleared */
    assert_int_equal(pic.chip[M].isr, 0x00);
    assert_int_equal(pic.chip[M].lowest_priority, 7);
    assert_false(pic.chip[M].special_mask);
    data(&pic, M, 0x08);
    data(&pic, M, 0x04);
    data(&pic, M, 0x01);
    assert_false(x86_pic_output(&pic)); /* IR6 still high, but needs a new edge */
    pulse_line(&pic, 6);
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0E);
}

static void test_pic_elcr(void **state)
{
    (void)state;
    struct x86_pic_pair pic;
    x86_pic_init(&pic);
    x86_pic_elcr_write(&pic, 0, 1, 0xFF);
    x86_pic_elcr_write(&pic, 1, 1, 0xFF);
    /* IRQ 0, 1, 2, 8 and 13 are fixed edge-triggered */
    assert_int_equal(x86_pic_elcr_read(&pic, 0, 1), 0xF8);
    assert_int_equal(x86_pic_elcr_read(&pic, 1, 1), 0xDE);
    x86_pic_elcr_write(&pic, 0, 2, 0x0C20); /* a word write reaches both */
    assert_int_equal(x86_pic_elcr_read(&pic, 0, 2), 0x0C20);
    x86_pic_elcr_write(&pic, 0, 2, 0x2107);
    assert_int_equal(x86_pic_elcr_read(&pic, 0, 2), 0x0000);
}

static void test_pic_poll(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    command(&pic, M, 0x0C); /* poll, nothing pending */
    assert_int_equal(read_command(&pic, M), 0x00);
    raise_line(&pic, 5);
    raise_line(&pic, 3);
    command(&pic, M, 0x0C);
    assert_int_equal(read_command(&pic, M), 0x83);
    assert_int_equal(read_isr(&pic, M), 0x08); /* acknowledged */
    assert_int_equal(read_command(&pic, M), 0x20); /* one read only: IRR again */
    command(&pic, M, 0x0C);
    assert_int_equal(read_command(&pic, M), 0x00); /* IR5 is below IR3 in service */
    command(&pic, M, 0x20);
    command(&pic, M, 0x0C);
    assert_int_equal(read_data(&pic, M), 0x85); /* the next RD, whichever port */
    assert_int_equal(read_data(&pic, M), 0x00); /* then the IMR */
    /* polling the slave separately, after the master reported the cascade */
    command(&pic, M, 0x20);
    raise_line(&pic, 14);
    command(&pic, M, 0x0C);
    assert_int_equal(read_command(&pic, M), 0x82);
    command(&pic, S, 0x0C);
    assert_int_equal(read_command(&pic, S), 0x86);
    assert_int_equal(read_isr(&pic, S), 0x40);
}

static void test_pic_special_mask_mode(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    raise_line(&pic, 5);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0D);
    raise_line(&pic, 6);
    assert_false(x86_pic_output(&pic));
    data(&pic, M, 0x20);     /* the IR5 routine masks its own level... */
    assert_false(x86_pic_output(&pic));
    command(&pic, M, 0x68);  /* ...and enters special mask mode: lower levels get through */
    assert_true(x86_pic_output(&pic));
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0E);
    assert_int_equal(read_isr(&pic, M), 0x60);
    command(&pic, M, 0x20);  /* non-specific EOI skips the masked IR5 */
    assert_int_equal(read_isr(&pic, M), 0x20);
    command(&pic, M, 0x20);
    assert_int_equal(read_isr(&pic, M), 0x20);
    command(&pic, M, 0x48);  /* special mask mode off */
    assert_false(pic.chip[M].special_mask);
    command(&pic, M, 0x28);  /* ESMM clear: SMM bit ignored */
    assert_false(pic.chip[M].special_mask);
    command(&pic, M, 0x65);
    assert_int_equal(read_isr(&pic, M), 0x00);
}

static void test_pic_rotation(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    /* rotate on non-specific EOI: the level just ended becomes the lowest */
    raise_line(&pic, 0);
    raise_line(&pic, 1);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x08);
    command(&pic, M, 0xA0);
    assert_int_equal(pic.chip[M].lowest_priority, 0);
    pulse_line(&pic, 0);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x09); /* IR1 now highest */
    /* IR0 is now the lowest: it must wait for IR1's EOI */
    assert_false(x86_pic_output(&pic));
    command(&pic, M, 0xA0); /* ends IR1, which becomes the lowest */
    assert_int_equal(pic.chip[M].lowest_priority, 1);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x08);
    command(&pic, M, 0x20);
    /* set priority: IR4 lowest, so IR5 highest */
    command(&pic, M, 0xC4);
    raise_line(&pic, 3);
    raise_line(&pic, 5);
    raise_line(&pic, 4);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0D);
    /* rotate on specific EOI: ends IR5 and makes IR2 lowest, so IR3 highest */
    command(&pic, M, 0xE5);
    assert_int_equal(read_isr(&pic, M), 0x00);
    command(&pic, M, 0xE2);
    assert_int_equal(pic.chip[M].lowest_priority, 2);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0B);
    command(&pic, M, 0x20);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x0C);
}

static void test_pic_status_reads(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    raise_line(&pic, 3);
    raise_line(&pic, 6);
    (void)x86_pic_acknowledge(&pic);
    assert_int_equal(read_command(&pic, M), 0x40); /* IRR after init */
    command(&pic, M, 0x0B);
    assert_int_equal(read_command(&pic, M), 0x08); /* ISR */
    assert_int_equal(read_command(&pic, M), 0x08); /* remembered */
    command(&pic, M, 0x08); /* RR = 0: no change of selection */
    assert_int_equal(read_command(&pic, M), 0x08);
    assert_int_equal(read_data(&pic, M), 0x00);    /* the data port is always the IMR */
    command(&pic, M, 0x0A);
    assert_int_equal(read_command(&pic, M), 0x40);
    /* a word read gets both ports, as two byte cycles */
    data(&pic, M, 0xA5);
    assert_int_equal(x86_pic_read(&pic.chip[M], 0, 2), 0xA540);
}

static void test_pic_output_wire(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    assert_int_equal(log.calls, 0); /* nothing changed yet */
    raise_line(&pic, 3);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.level, 1);
    raise_line(&pic, 4);  /* already high: no call */
    raise_line(&pic, 9);
    assert_int_equal(log.calls, 1);
    (void)x86_pic_acknowledge(&pic); /* IR2 (the slave) outranks IR3 */
    assert_int_equal(log.calls, 2);
    assert_int_equal(log.level, 0);
    command(&pic, S, 0x20);
    assert_int_equal(log.calls, 2);
    command(&pic, M, 0x20);
    assert_int_equal(log.calls, 3);
    assert_int_equal(log.level, 1);
    data(&pic, M, 0xFF);
    assert_int_equal(log.calls, 4);
    assert_int_equal(log.level, 0);
    assert_false(x86_pic_output(&pic));
}

/* A receiver that acknowledges from inside the wire callback sees a consistent pair */
struct eager_cpu { struct x86_pic_pair *pic; int vector; };
static void eager_acknowledge(void *opaque, int line, int level)
{
    struct eager_cpu *cpu = opaque;
    (void)line;
    if (level)
        cpu->vector = x86_pic_acknowledge(cpu->pic);
}

static void test_pic_reentrant_acknowledge(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    struct eager_cpu cpu = { &pic, -1 };
    pic.output = (struct x86_irq_wire){ eager_acknowledge, &cpu, 0 };
    raise_line(&pic, 13);
    assert_int_equal(cpu.vector, 0x75);
    assert_false(x86_pic_output(&pic));
    assert_int_equal(pic.chip[S].isr, 0x20);
}

static void test_pic_bus_ports(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    x86_pic_init(&pic);
    pic.output = (struct x86_irq_wire){ on_output, &log, 0 };
    struct x86_bus bus;
    assert_true(x86_bus_init(&bus, 1 << 20));
    assert_int_equal(x86_pic_attach(&pic, &bus), X86IRQ_OK);
    static const struct { uint16_t port; uint8_t value; } sequence[] = {
        { 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
        { 0xA0, 0x11 }, { 0xA1, 0x28 }, { 0xA1, 0x02 }, { 0xA1, 0x01 },
        { 0x21, 0xFB }, { 0xA1, 0xBF }, { 0x4D1, 0x40 },
    };
    for (size_t i = 0; i < sizeof(sequence) / sizeof(sequence[0]); i++)
        x86_bus_port_write(&bus, sequence[i].port, 1, sequence[i].value);
    assert_int_equal(x86_bus_port_read(&bus, 0x21, 1), 0xFB);
    assert_int_equal(x86_bus_port_read(&bus, 0xA1, 1), 0xBF);
    assert_int_equal(x86_bus_port_read(&bus, 0x4D0, 2), 0x4000);
    x86_pic_set_irq(&pic, 14, 1); /* level via the ELCR */
    assert_int_equal(log.level, 1);
    assert_int_equal(x86_pic_acknowledge(&pic), 0x2E);
    x86_bus_port_write(&bus, 0xA0, 1, 0x20);
    x86_bus_port_write(&bus, 0x20, 1, 0x20);
    assert_int_equal(log.level, 1); /* still high: again */
    x86_bus_port_write(&bus, 0xA0, 1, 0x0B);
    assert_int_equal(x86_bus_port_read(&bus, 0xA0, 1), 0x00);
    assert_int_equal(x86_pic_attach(&pic, &bus), X86IRQ_ERR_CONFLICT);
    x86_bus_finish(&bus);
}

static void test_pic_out_of_range_irq(void **state)
{
    (void)state;
    struct wire_log log = { 0, 0 };
    struct x86_pic_pair pic;
    program_pair(&pic, &log, 0x08, 0x70, 0);
    x86_pic_set_irq(&pic, 16, 1);
    x86_pic_set_irq(&pic, 1000, 1);
    assert_false(x86_pic_output(&pic));
    assert_int_equal(x86_pic_irr(&pic, M) | x86_pic_irr(&pic, S), 0);
    assert_int_equal(x86_pic_irr(&pic, 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pic_power_on),
        cmocka_unit_test(test_pic_seabios_init),
        cmocka_unit_test(test_pic_linux_init),
        cmocka_unit_test(test_pic_single_mode_without_icw3),
        cmocka_unit_test(test_pic_mask),
        cmocka_unit_test(test_pic_priority),
        cmocka_unit_test(test_pic_nesting),
        cmocka_unit_test(test_pic_end_of_interrupt),
        cmocka_unit_test(test_pic_auto_eoi),
        cmocka_unit_test(test_pic_cascade),
        cmocka_unit_test(test_pic_cascade_address),
        cmocka_unit_test(test_pic_special_fully_nested),
        cmocka_unit_test(test_pic_spurious),
        cmocka_unit_test(test_pic_edge_and_level),
        cmocka_unit_test(test_pic_initialisation_resets),
        cmocka_unit_test(test_pic_elcr),
        cmocka_unit_test(test_pic_poll),
        cmocka_unit_test(test_pic_special_mask_mode),
        cmocka_unit_test(test_pic_rotation),
        cmocka_unit_test(test_pic_status_reads),
        cmocka_unit_test(test_pic_output_wire),
        cmocka_unit_test(test_pic_reentrant_acknowledge),
        cmocka_unit_test(test_pic_bus_ports),
        cmocka_unit_test(test_pic_out_of_range_irq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
