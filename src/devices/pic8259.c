/* Intel 8259A pair (see pic8259.h). Section names below are those of the 8259A datasheet.
 *
 * The interrupt request register is not stored: the datasheet's priority cell (Figure 9) makes
 * each IRR bit a transparent latch of the IR level ANDed, in edge mode, with an edge sense latch
 * that a rising edge sets and the ISR bit being set clears. So IRR = input & (level | edge_latch),
 * and a request that drops before the acknowledge leaves the IRR, which is what makes the
 * default IR7 happen ("Edge and Level Triggered Modes": the IR input must remain high until
 * after the falling edge of the first INTA). */
#include "devices/pic8259.h"

#include <stddef.h>
#include <string.h>

/* ICW1 (A0 = 0, D4 = 1) */
#define ICW1_IC4 0x01    /* ICW4 needed */
#define ICW1_SNGL 0x02   /* single chip: no ICW3 */
#define ICW1_LTIM 0x08   /* level-triggered inputs */
#define ICW1_SELECT 0x10
/* ICW2: T7-T3 in 8086 mode, the low three bits are the interrupting level */
#define ICW2_VECTOR_BASE 0xF8
/* ICW3 on a slave: its ID, the cascade address it answers */
#define ICW3_SLAVE_ID 0x07
/* ICW4 */
#define ICW4_UPM 0x01    /* 8086/8088 mode */
#define ICW4_AEOI 0x02
#define ICW4_MS 0x04     /* buffered master/slave */
#define ICW4_BUF 0x08
#define ICW4_SFNM 0x10   /* special fully nested mode */
#define ICW4_BITS (ICW4_UPM | ICW4_AEOI | ICW4_MS | ICW4_BUF | ICW4_SFNM)
/* OCW2 (A0 = 0, D4 = D3 = 0): R SL EOI in D7-D5, L2-L0 in D2-D0 */
#define OCW2_COMMAND_SHIFT 5
#define OCW2_LEVEL 0x07
/* OCW3 (A0 = 0, D4 = 0, D3 = 1) */
#define OCW3_SELECT 0x08
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_POLL 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40
/* Poll word: I (an interrupt was pending) and W2-W0 */
#define POLL_INTERRUPT 0x80

#define DEFAULT_IR7 7
#define OPEN_BUS 0xFF

/* The initialisation words expected on the data port after ICW1 ("Initialization Command
 * Words", Figure 6 flowchart) */
enum init_step { INIT_READY = 0, INIT_EXPECT_ICW2, INIT_EXPECT_ICW3, INIT_EXPECT_ICW4 };

/* ELCR bits that read as zero and ignore writes: IRQ 0, 1, 2 (timer, keyboard, cascade) and
 * IRQ 8, 13 (RTC, FPU error) are edge-triggered on every EISA/PIIX board (Intel 82371AB PIIX4
 * datasheet, ELCR1/ELCR2). */
static const uint8_t elcr_writable[2] = { 0xF8, 0xDE };

/* OCW2 commands by R SL EOI ("Operation Command Words", Figure 8 / "End of Interrupt" and
 * "Automatic Rotation"): which level the command acts on, whether it clears that ISR bit, whether
 * that level becomes the lowest priority, and what it does to rotation in automatic EOI mode. */
enum ocw2_level_source { OCW2_NO_LEVEL, OCW2_HIGHEST_IN_SERVICE, OCW2_LEVEL_FIELD };
enum auto_eoi_rotation { AEOI_ROTATION_KEEP, AEOI_ROTATION_SET, AEOI_ROTATION_CLEAR };
struct ocw2_command {
    uint8_t level_source;
    bool end_of_interrupt;
    bool rotate;
    uint8_t auto_eoi_rotation;
};
static const struct ocw2_command ocw2_commands[8] = {
    [0] = { OCW2_NO_LEVEL, false, false, AEOI_ROTATION_CLEAR },      /* rotate in AEOI: clear */
    [1] = { OCW2_HIGHEST_IN_SERVICE, true, false, AEOI_ROTATION_KEEP }, /* non-specific EOI */
    [2] = { OCW2_NO_LEVEL, false, false, AEOI_ROTATION_KEEP },       /* no operation */
    [3] = { OCW2_LEVEL_FIELD, true, false, AEOI_ROTATION_KEEP },     /* specific EOI */
    [4] = { OCW2_NO_LEVEL, false, false, AEOI_ROTATION_SET },        /* rotate in AEOI: set */
    [5] = { OCW2_HIGHEST_IN_SERVICE, true, true, AEOI_ROTATION_KEEP }, /* rotate on non-spec. EOI */
    [6] = { OCW2_LEVEL_FIELD, false, true, AEOI_ROTATION_KEEP },     /* set priority */
    [7] = { OCW2_LEVEL_FIELD, true, true, AEOI_ROTATION_KEEP },      /* rotate on specific EOI */
};

static struct x86_pic_pair *pair_of_chip(struct x86_pic_chip *chip)
{
    return (struct x86_pic_pair *)(void *)((char *)(chip - chip->index) -
                                           offsetof(struct x86_pic_pair, chip));
}

static uint8_t bit_of(unsigned ir) { return (uint8_t)(1u << ir); }

/* Inputs that are level-triggered: all of them with ICW1.LTIM, else those the ELCR selects */
static uint8_t level_triggered(const struct x86_pic_pair *pic, unsigned index)
{
    return (pic->chip[index].icw1 & ICW1_LTIM) ? 0xFF : pic->elcr[index];
}

uint8_t x86_pic_irr(const struct x86_pic_pair *pic, unsigned chip)
{
    if (chip > X86_PIC_SLAVE)
        return 0;
    const struct x86_pic_chip *c = &pic->chip[chip];
    return c->input & (uint8_t)(level_triggered(pic, chip) | c->edge_latch);
}

/* Priority rank of an IR, 0 the highest: the level after the lowest-priority one ranks first
 * ("Interrupt Priorities": rotation moves the lowest priority, the others follow in order) */
static unsigned priority_rank(const struct x86_pic_chip *c, unsigned ir)
{
    return (ir - c->lowest_priority - 1u) & 7u;
}

/* The highest-priority IR among bits, or -1 */
static int highest_priority(const struct x86_pic_chip *c, uint8_t bits)
{
    for (unsigned rank = 0; rank < 8; rank++) {
        unsigned ir = (c->lowest_priority + 1u + rank) & 7u;
        if (bits & bit_of(ir))
            return (int)ir;
    }
    return -1;
}

/* In-service levels that hold off requests of lower or equal priority. In special mask mode a
 * masked level does not ("Special Mask Mode": it enables all other unmasked levels, lower ones
 * included), which is also why a non-specific EOI leaves masked ISR bits alone there. */
static uint8_t blocking_in_service(const struct x86_pic_chip *c)
{
    return c->special_mask ? (uint8_t)(c->isr & ~c->imr) : c->isr;
}

static bool is_cascade_input(const struct x86_pic_chip *c, unsigned ir)
{
    return c->index == X86_PIC_MASTER && !(c->icw1 & ICW1_SNGL) && (c->icw3 & bit_of(ir));
}

/* The priority resolver: the request this chip would present on INT, or -1. Fully nested mode
 * lets only a request of higher priority than the highest level in service through; special
 * fully nested mode on the master also lets a slave's input through while that input is in
 * service, so higher-priority requests inside the slave reach the CPU ("The Special Fully Nest
 * Mode", a). */
static int serviceable_request(const struct x86_pic_pair *pic, unsigned index)
{
    const struct x86_pic_chip *c = &pic->chip[index];
    int request = highest_priority(c, (uint8_t)(x86_pic_irr(pic, index) & ~c->imr));
    if (request < 0)
        return -1;
    int in_service = highest_priority(c, blocking_in_service(c));
    if (in_service < 0 ||
        priority_rank(c, (unsigned)request) < priority_rank(c, (unsigned)in_service))
        return request;
    if (request == in_service && (c->icw4 & ICW4_SFNM) && is_cascade_input(c, (unsigned)request))
        return request;
    return -1;
}

/* Drive one IR pin; a rising edge sets its edge sense latch */
static void drive_input(struct x86_pic_chip *c, unsigned ir, bool level)
{
    uint8_t bit = bit_of(ir);
    if (level) {
        if (!(c->input & bit))
            c->edge_latch |= bit;
        c->input |= bit;
    } else {
        c->input &= (uint8_t)~bit;
    }
}

/* Propagate after any change: the slave's INT to the master's IR2, the master's INT to the
 * output wire. The wire is called last, with the pair consistent, so the receiver may call back
 * (acknowledge at once, say). */
static void update_outputs(struct x86_pic_pair *pic)
{
    bool slave_int = serviceable_request(pic, X86_PIC_SLAVE) >= 0;
    drive_input(&pic->chip[X86_PIC_MASTER], X86_PIC_CASCADE_IRQ, slave_int || pic->ir2_driven);
    bool master_int = serviceable_request(pic, X86_PIC_MASTER) >= 0;
    if (master_int != pic->output_level) {
        pic->output_level = master_int;
        x86_irq_wire_set(&pic->output, master_int);
    }
}

bool x86_pic_output(const struct x86_pic_pair *pic)
{
    return pic->output_level;
}

static uint8_t vector_of(const struct x86_pic_chip *c, unsigned ir)
{
    return (uint8_t)((c->icw2 & ICW2_VECTOR_BASE) | ir);
}

/* First INTA pulse: the ISR bit is set, which clears the edge sense latch (and so the IRR bit
 * of an edge-triggered input; a level-triggered one follows its still-high line) */
static void accept_request(struct x86_pic_chip *c, unsigned ir)
{
    c->isr |= bit_of(ir);
    c->edge_latch &= (uint8_t)~bit_of(ir);
}

/* End of the last INTA pulse: automatic EOI resets the ISR bit, and with rotation in AEOI mode
 * the level just serviced becomes the lowest priority ("Automatic End of Interrupt Mode",
 * "Automatic Rotation") */
static void finish_acknowledge(struct x86_pic_chip *c, unsigned ir)
{
    if (!(c->icw4 & ICW4_AEOI))
        return;
    c->isr &= (uint8_t)~bit_of(ir);
    if (c->rotate_in_auto_eoi)
        c->lowest_priority = (uint8_t)ir;
}

/* The slave's part of the INTA cycle once the master put cascade address ir on CAS0-2: the
 * slave with that ID resolves its own request, or gives its default IR7 */
static int slave_acknowledge(struct x86_pic_pair *pic, unsigned cascade_address)
{
    struct x86_pic_chip *slave = &pic->chip[X86_PIC_SLAVE];
    if ((slave->icw3 & ICW3_SLAVE_ID) != cascade_address)
        return OPEN_BUS;
    int request = serviceable_request(pic, X86_PIC_SLAVE);
    if (request < 0)
        return vector_of(slave, DEFAULT_IR7);
    accept_request(slave, (unsigned)request);
    finish_acknowledge(slave, (unsigned)request);
    return vector_of(slave, (unsigned)request);
}

int x86_pic_acknowledge(struct x86_pic_pair *pic)
{
    struct x86_pic_chip *master = &pic->chip[X86_PIC_MASTER];
    int request = serviceable_request(pic, X86_PIC_MASTER);
    int vector;
    if (request < 0) {
        vector = vector_of(master, DEFAULT_IR7); /* no ISR bit for the default IR7 */
    } else {
        accept_request(master, (unsigned)request);
        if (is_cascade_input(master, (unsigned)request))
            vector = slave_acknowledge(pic, (unsigned)request);
        else
            vector = vector_of(master, (unsigned)request);
        finish_acknowledge(master, (unsigned)request);
    }
    update_outputs(pic);
    return vector;
}

void x86_pic_set_irq(struct x86_pic_pair *pic, unsigned irq, int level)
{
    if (irq > 15)
        return;
    if (irq == X86_PIC_CASCADE_IRQ)
        pic->ir2_driven = level != 0; /* ORed with the slave's INT in update_outputs */
    else
        drive_input(&pic->chip[irq / 8], irq % 8, level != 0);
    update_outputs(pic);
}

/* ICW1 starts the initialisation sequence and resets the chip ("Initialization Command Words":
 * edge sense circuit reset, IMR cleared, IR7 lowest priority, slave address 7, special mask
 * mode cleared, status read set to IRR, ICW4 functions zero if IC4 = 0). ISR, a pending poll
 * and rotation in AEOI are cleared too: no software expects them to survive. */
static void write_icw1(struct x86_pic_chip *c, uint8_t value)
{
    c->icw1 = value;
    c->icw3 = DEFAULT_IR7;
    c->icw4 = 0;
    c->edge_latch = 0;
    c->imr = 0;
    c->isr = 0;
    c->lowest_priority = DEFAULT_IR7;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_in_auto_eoi = false;
    c->init_step = INIT_EXPECT_ICW2;
}

static void write_ocw2(struct x86_pic_pair *pic, struct x86_pic_chip *c, uint8_t value)
{
    const struct ocw2_command *command = &ocw2_commands[value >> OCW2_COMMAND_SHIFT];
    int level = -1;
    if (command->level_source == OCW2_LEVEL_FIELD)
        level = value & OCW2_LEVEL;
    else if (command->level_source == OCW2_HIGHEST_IN_SERVICE)
        level = highest_priority(c, blocking_in_service(c));
    if (level >= 0) {
        if (command->end_of_interrupt) {
            c->isr &= (uint8_t)~bit_of((unsigned)level);
            if (pic->on_eoi) /* observers (trace events) learn which vector ended */
                pic->on_eoi(pic->eoi_opaque, (uint8_t)((c->icw2 & 0xF8) + level));
        }
        if (command->rotate)
            c->lowest_priority = (uint8_t)level;
    }
    if (command->auto_eoi_rotation == AEOI_ROTATION_SET)
        c->rotate_in_auto_eoi = true;
    else if (command->auto_eoi_rotation == AEOI_ROTATION_CLEAR)
        c->rotate_in_auto_eoi = false;
}

/* OCW3: ESMM/SMM act only as a pair, RR/RIS only with RR set */
static void write_ocw3(struct x86_pic_chip *c, uint8_t value)
{
    if (value & OCW3_ESMM)
        c->special_mask = (value & OCW3_SMM) != 0;
    if (value & OCW3_RR)
        c->read_isr = (value & OCW3_RIS) != 0;
    c->poll = (value & OCW3_POLL) != 0;
}

/* The data port takes ICW2, ICW3 (cascade mode only) and ICW4 (IC4 only) in turn after ICW1,
 * then OCW1 */
static void write_data(struct x86_pic_chip *c, uint8_t value)
{
    switch (c->init_step) {
    case INIT_EXPECT_ICW2:
        c->icw2 = value;
        if (!(c->icw1 & ICW1_SNGL))
            c->init_step = INIT_EXPECT_ICW3;
        else
            c->init_step = (c->icw1 & ICW1_IC4) ? INIT_EXPECT_ICW4 : INIT_READY;
        break;
    case INIT_EXPECT_ICW3:
        c->icw3 = value;
        c->init_step = (c->icw1 & ICW1_IC4) ? INIT_EXPECT_ICW4 : INIT_READY;
        break;
    case INIT_EXPECT_ICW4:
        c->icw4 = value & ICW4_BITS;
        c->init_step = INIT_READY;
        break;
    default:
        c->imr = value;
        break;
    }
}

static void write_byte(struct x86_pic_pair *pic, struct x86_pic_chip *c, uint64_t offset,
                       uint8_t value)
{
    if (offset == 1)
        write_data(c, value);
    else if (value & ICW1_SELECT)
        write_icw1(c, value);
    else if (value & OCW3_SELECT)
        write_ocw3(c, value);
    else
        write_ocw2(pic, c, value);
    update_outputs(pic);
}

/* A poll read: the RD pulse acts as an interrupt acknowledge of this chip alone ("Poll
 * Command"), setting the ISR bit of the request it reports */
static uint8_t poll_read(struct x86_pic_pair *pic, struct x86_pic_chip *c)
{
    c->poll = false;
    int request = serviceable_request(pic, c->index);
    if (request < 0)
        return 0;
    accept_request(c, (unsigned)request);
    finish_acknowledge(c, (unsigned)request);
    update_outputs(pic);
    return (uint8_t)(POLL_INTERRUPT | (unsigned)request);
}

/* Polling overrides the status read on the next RD, whichever A0 ("Reading the 8259A Status") */
static uint8_t read_byte(struct x86_pic_pair *pic, struct x86_pic_chip *c, uint64_t offset)
{
    if (c->poll)
        return poll_read(pic, c);
    if (offset == 1)
        return c->imr;
    return c->read_isr ? c->isr : x86_pic_irr(pic, c->index);
}

uint64_t x86_pic_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_pic_chip *c = opaque;
    struct x86_pic_pair *pic = pair_of_chip(c);
    uint64_t value = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t byte = offset + i < 2 ? read_byte(pic, c, offset + i) : OPEN_BUS;
        value |= byte << (8 * i);
    }
    return value;
}

void x86_pic_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_pic_chip *c = opaque;
    struct x86_pic_pair *pic = pair_of_chip(c);
    for (unsigned i = 0; i < size && offset + i < 2; i++)
        write_byte(pic, c, offset + i, (uint8_t)(value >> (8 * i)));
}

uint64_t x86_pic_elcr_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct x86_pic_pair *pic = opaque;
    uint64_t value = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t byte = offset + i < 2 ? pic->elcr[offset + i] : OPEN_BUS;
        value |= byte << (8 * i);
    }
    return value;
}

void x86_pic_elcr_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_pic_pair *pic = opaque;
    for (unsigned i = 0; i < size && offset + i < 2; i++)
        pic->elcr[offset + i] = (uint8_t)(value >> (8 * i)) & elcr_writable[offset + i];
    update_outputs(pic); /* a line now level-triggered may be requesting */
}

void x86_pic_init(struct x86_pic_pair *pic)
{
    memset(pic, 0, sizeof(*pic));
    for (unsigned index = 0; index < 2; index++) {
        struct x86_pic_chip *c = &pic->chip[index];
        c->index = (uint8_t)index;
        c->imr = 0xFF;
        c->lowest_priority = DEFAULT_IR7;
    }
}

x86irq_status x86_pic_attach(struct x86_pic_pair *pic, struct x86_bus *bus)
{
    static const struct {
        uint16_t base;
        unsigned chip;
        const char *name;
    } chips[] = {
        { X86_PIC_MASTER_PORT, X86_PIC_MASTER, "pic8259-master" },
        { X86_PIC_SLAVE_PORT, X86_PIC_SLAVE, "pic8259-slave" },
    };
    for (size_t i = 0; i < sizeof(chips) / sizeof(chips[0]); i++) {
        x86irq_status status = x86_bus_add_ports(bus, chips[i].base, 2, x86_pic_read,
                                                 x86_pic_write, &pic->chip[chips[i].chip],
                                                 chips[i].name);
        if (status != X86IRQ_OK)
            return status;
    }
    return x86_bus_add_ports(bus, X86_PIC_ELCR_PORT, 2, x86_pic_elcr_read, x86_pic_elcr_write,
                             pic, "elcr");
}
