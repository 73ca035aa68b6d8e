/* The 8042 keyboard controller and its PS/2 keyboard (see i8042.h). Sources for the facts: the
 * IBM PC/AT and PS/2 technical references (status register, command byte, controller commands,
 * output port, scan code translation) and the PS/2 keyboard protocol; the user whose sequence
 * it must satisfy is Linux's drivers/input/serio/i8042.c and drivers/input/keyboard/atkbd.c.
 *
 * Timing: every command completes at once, so the input buffer is never full (IBF reads 0).
 * The output buffer holds one byte; bytes waiting for it queue in the controller (its own
 * results, which go first, as the 8042 firmware answers a command before it polls the
 * keyboard again) and in the keyboard's 16-byte buffer, and move in as soon as it is read.
 *
 * Interrupts: IRQ 1 is high while the output buffer holds a keyboard byte and the command byte
 * enables the keyboard interrupt, IRQ 12 likewise for an auxiliary byte; reading port 0x60
 * lowers the line, and the next byte, if one waits, raises it again (a new ISA edge).
 *
 * No device is attached to the auxiliary port. The port itself works (loopback 0xD3, interface
 * test 0xA9, enable/disable), so Linux registers "i8042 AUX port" as on a PC with nothing
 * plugged into the mouse socket; every byte sent to the device (0xD4) times out at once: the
 * controller returns 0xFE as auxiliary data with the TIMEOUT status bit, which libps2 takes as
 * a NAK (atkbd's probe of the port then fails quietly after one retry) and psmouse as an
 * aborted command.
 */
#include "devices/i8042.h"

#include <string.h>

/* Status register (port 0x64 read) */
#define STATUS_OBF 0x01u
#define STATUS_IBF 0x02u       /* never set: commands complete at once */
#define STATUS_SYS 0x04u
#define STATUS_COMMAND 0x08u   /* A2 of the last write: 1 command, 0 data */
#define STATUS_KEYLOCK 0x10u   /* 1: the keyboard is not inhibited by the key lock */
#define STATUS_AUXB 0x20u
#define STATUS_TIMEOUT 0x40u
#define STATUS_PARITY 0x80u    /* never set: no transmission errors */

/* Controller command byte (RAM byte 0) */
#define CCB_KBD_INT 0x01u
#define CCB_AUX_INT 0x02u
#define CCB_SYS 0x04u
#define CCB_KBD_DISABLE 0x10u
#define CCB_AUX_DISABLE 0x20u
#define CCB_TRANSLATE 0x40u
#define CCB_POWER_ON (CCB_TRANSLATE | CCB_AUX_DISABLE | CCB_SYS | CCB_KBD_INT)

/* Output port (0xD0/0xD1) */
#define OUTPUT_RESET 0x01u     /* 0 holds the processor in reset */
#define OUTPUT_A20 0x02u
#define OUTPUT_KBD_OBF 0x10u   /* the IRQ 1 line */
#define OUTPUT_AUX_OBF 0x20u   /* the IRQ 12 line */
#define OUTPUT_POWER_ON 0xCFu  /* not in reset, A20 on, keyboard clock and data idle high */
/* Input port (0xC0): keyboard not inhibited (bit 7), no manufacturing jumper (bit 5) */
#define INPUT_PORT 0xA0u

/* Flags of a queued byte */
#define FROM_AUX 0x01u
#define TIMED_OUT 0x02u

/* PS/2 keyboard commands and replies */
#define KBD_SET_LEDS 0xEDu
#define KBD_ECHO 0xEEu
#define KBD_SCANCODE_SET 0xF0u
#define KBD_GET_ID 0xF2u
#define KBD_TYPEMATIC 0xF3u
#define KBD_ENABLE 0xF4u
#define KBD_DEFAULT_DISABLE 0xF5u
#define KBD_SET_DEFAULT 0xF6u
#define KBD_RESEND 0xFEu
#define KBD_RESET 0xFFu
#define KBD_ACK 0xFAu
#define KBD_BAT_OK 0xAAu
#define KBD_ID_FIRST 0xABu     /* an MF2 keyboard: 0xAB 0x83 */
#define KBD_ID_SECOND 0x83u
#define KBD_BREAK_PREFIX 0xF0u
#define KBD_TYPEMATIC_DEFAULT 0x2Bu /* 10.9 characters/s after 500 ms */
#define AUX_TIMEOUT_BYTE 0xFEu

/* The controller's scan code translation (command byte bit 6), set 2 -> set 1: codes
 * 0x00-0x7F through this table, 0x83 (F7) -> 0x41 and 0x84 (SysRq) -> 0x54, the rest unchanged;
 * an 0xF0 prefix is swallowed and sets bit 7 of the next code (a break code in set 1). */
static const uint8_t translation[128] = {
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59,
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, 0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B,
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, 0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, 0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F,
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, 0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61,
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, 0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, 0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F,
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, 0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54,
};

static uint8_t translate(uint8_t code)
{
    if (code < 0x80)
        return translation[code];
    if (code == 0x83)
        return 0x41;
    if (code == 0x84)
        return 0x54;
    return code;
}

static uint8_t command_byte(const struct x86_i8042 *kbc)
{
    return kbc->ram[0];
}

/* ------------------------------------------------------------------ the output buffer */

static void set_wire(const struct x86_irq_wire *wire, int *current, int level)
{
    if (level != *current) {
        *current = level;
        x86_irq_wire_set(wire, level);
    }
}

static void update_irqs(struct x86_i8042 *kbc)
{
    uint8_t ccb = command_byte(kbc);
    set_wire(&kbc->kbd_irq, &kbc->kbd_irq_level,
             kbc->output_full && !kbc->output_aux && (ccb & CCB_KBD_INT));
    set_wire(&kbc->aux_irq, &kbc->aux_irq_level,
             kbc->output_full && kbc->output_aux && (ccb & CCB_AUX_INT));
}

static void load_output(struct x86_i8042 *kbc, uint8_t byte, unsigned flags)
{
    kbc->output = byte;
    kbc->output_full = true;
    kbc->output_aux = (flags & FROM_AUX) != 0;
    kbc->timeout = (flags & TIMED_OUT) != 0;
}

/* Move the next waiting byte into an empty output buffer: the controller's first, then the
 * keyboard's while its interface is enabled (disabled, the controller holds the keyboard's
 * clock low and the bytes stay in the keyboard) */
static void refill(struct x86_i8042 *kbc)
{
    while (!kbc->output_full) {
        if (kbc->controller_count) {
            unsigned head = kbc->controller_head;
            load_output(kbc, kbc->controller_queue[head].byte, kbc->controller_queue[head].flags);
            kbc->controller_head = (head + 1) % X86_I8042_CONTROLLER_QUEUE_SIZE;
            kbc->controller_count--;
            break;
        }
        if (!kbc->kbd_count || (command_byte(kbc) & CCB_KBD_DISABLE))
            break;
        uint8_t code = kbc->kbd_queue[kbc->kbd_head];
        kbc->kbd_head = (kbc->kbd_head + 1) % X86_I8042_QUEUE_SIZE;
        kbc->kbd_count--;
        if (command_byte(kbc) & CCB_TRANSLATE) {
            if (code == KBD_BREAK_PREFIX) {
                kbc->translate_break = true;
                continue; /* nothing reaches the host for the prefix */
            }
            code = (uint8_t)(translate(code) | (kbc->translate_break ? 0x80u : 0));
            kbc->translate_break = false;
        }
        load_output(kbc, code, 0);
    }
    update_irqs(kbc);
}

/* A byte the controller itself puts out (a command's result, loopback, a time-out) */
static void controller_output(struct x86_i8042 *kbc, uint8_t byte, unsigned flags)
{
    if (kbc->controller_count < X86_I8042_CONTROLLER_QUEUE_SIZE) {
        unsigned tail = (kbc->controller_head + kbc->controller_count) %
                        X86_I8042_CONTROLLER_QUEUE_SIZE;
        kbc->controller_queue[tail].byte = byte;
        kbc->controller_queue[tail].flags = (uint8_t)flags;
        kbc->controller_count++;
    }
    refill(kbc);
}

static uint8_t read_data(struct x86_i8042 *kbc)
{
    uint8_t value = kbc->output; /* empty, the register still holds the last byte */
    if (kbc->output_full) {
        kbc->output_full = false;
        kbc->output_aux = false;
        update_irqs(kbc); /* the line falls before the next byte can raise it */
        refill(kbc);
    }
    return value;
}

static uint8_t read_status(const struct x86_i8042 *kbc)
{
    uint8_t status = STATUS_KEYLOCK;
    if (kbc->output_full)
        status |= STATUS_OBF;
    if (kbc->output_full && kbc->output_aux)
        status |= STATUS_AUXB;
    if (command_byte(kbc) & CCB_SYS)
        status |= STATUS_SYS; /* the command byte's system flag (AT technical reference) */
    if (kbc->last_write_command)
        status |= STATUS_COMMAND;
    if (kbc->timeout)
        status |= STATUS_TIMEOUT;
    return status;
}

/* ------------------------------------------------------------------ the PS/2 keyboard */

static void keyboard_send(struct x86_i8042 *kbc, uint8_t byte)
{
    kbc->kbd_last_sent = byte;
    if (kbc->kbd_count >= X86_I8042_QUEUE_SIZE)
        return; /* the keyboard's buffer overflows: the byte is lost */
    kbc->kbd_queue[(kbc->kbd_head + kbc->kbd_count) % X86_I8042_QUEUE_SIZE] = byte;
    kbc->kbd_count++;
}

static void keyboard_clear(struct x86_i8042 *kbc)
{
    kbc->kbd_head = 0;
    kbc->kbd_count = 0;
}

static void keyboard_defaults(struct x86_i8042 *kbc)
{
    kbc->kbd_leds = 0;
    kbc->kbd_typematic = KBD_TYPEMATIC_DEFAULT;
    kbc->kbd_scancode_set = 2;
    kbc->kbd_command = 0;
}

/* The argument byte of 0xED, 0xF0 or 0xF3 */
static void keyboard_argument(struct x86_i8042 *kbc, uint8_t command, uint8_t byte)
{
    switch (command) {
    case KBD_SET_LEDS:
        kbc->kbd_leds = byte & 0x07u;
        keyboard_send(kbc, KBD_ACK);
        break;
    case KBD_TYPEMATIC:
        kbc->kbd_typematic = byte & 0x7Fu;
        keyboard_send(kbc, KBD_ACK);
        break;
    default: /* KBD_SCANCODE_SET: 0 asks for the set in use, 1-3 select one */
        if (byte == 0) {
            keyboard_send(kbc, KBD_ACK);
            keyboard_send(kbc, kbc->kbd_scancode_set);
        } else if (byte <= 3) {
            kbc->kbd_scancode_set = byte;
            keyboard_send(kbc, KBD_ACK);
        } else {
            kbc->kbd_command = command; /* not a set: asks for the argument again */
            keyboard_send(kbc, KBD_RESEND);
        }
        break;
    }
}

/* A byte from the host to the keyboard */
static void keyboard_receive(struct x86_i8042 *kbc, uint8_t byte)
{
    if (kbc->kbd_command) {
        uint8_t command = kbc->kbd_command;
        kbc->kbd_command = 0;
        keyboard_argument(kbc, command, byte);
        return;
    }
    switch (byte) {
    case KBD_SET_LEDS:
    case KBD_SCANCODE_SET:
    case KBD_TYPEMATIC:
        kbc->kbd_command = byte;
        keyboard_send(kbc, KBD_ACK);
        break;
    case KBD_ECHO:
        keyboard_send(kbc, KBD_ECHO);
        break;
    case KBD_GET_ID:
        keyboard_send(kbc, KBD_ACK);
        keyboard_send(kbc, KBD_ID_FIRST);
        keyboard_send(kbc, KBD_ID_SECOND);
        break;
    case KBD_ENABLE:
        keyboard_clear(kbc);
        kbc->kbd_scanning = true;
        keyboard_send(kbc, KBD_ACK);
        break;
    case KBD_DEFAULT_DISABLE:
    case KBD_SET_DEFAULT:
        keyboard_clear(kbc);
        keyboard_defaults(kbc);
        kbc->kbd_scanning = byte == KBD_SET_DEFAULT;
        keyboard_send(kbc, KBD_ACK);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA: case 0xFB: case 0xFC: case 0xFD:
        keyboard_send(kbc, KBD_ACK); /* scan code set 3 key types: accepted, not modelled */
        break;
    case KBD_RESEND:
        keyboard_send(kbc, kbc->kbd_last_sent);
        break;
    case KBD_RESET:
        /* the basic assurance test passes at once */
        keyboard_clear(kbc);
        keyboard_defaults(kbc);
        kbc->kbd_scanning = true;
        keyboard_send(kbc, KBD_ACK);
        keyboard_send(kbc, KBD_BAT_OK);
        break;
    default:
        keyboard_send(kbc, KBD_RESEND); /* not a command */
        break;
    }
}

bool x86_i8042_key(struct x86_i8042 *kbc, uint8_t byte)
{
    if (!kbc->kbd_scanning || kbc->kbd_count >= X86_I8042_QUEUE_SIZE)
        return false;
    keyboard_send(kbc, byte);
    refill(kbc);
    return true;
}

/* ------------------------------------------------------------------ controller commands */

static void pulse_reset(struct x86_i8042 *kbc)
{
    if (kbc->reset)
        kbc->reset(kbc->opaque);
}

static void write_output_port(struct x86_i8042 *kbc, uint8_t value)
{
    /* bits 4-5 are driven by the output buffer; A20 is stored (always enabled here) */
    kbc->output_port = (uint8_t)(value & ~(OUTPUT_KBD_OBF | OUTPUT_AUX_OBF));
    if (!(value & OUTPUT_RESET))
        pulse_reset(kbc); /* last: the board may reset the machine */
}

static uint8_t read_output_port(const struct x86_i8042 *kbc)
{
    return (uint8_t)(kbc->output_port | (kbc->kbd_irq_level ? OUTPUT_KBD_OBF : 0) |
                     (kbc->aux_irq_level ? OUTPUT_AUX_OBF : 0));
}

static void set_command_byte(struct x86_i8042 *kbc, uint8_t value)
{
    kbc->ram[0] = value;
    refill(kbc); /* an enabled keyboard may deliver; the interrupt enables apply at once */
}

static void write_command(struct x86_i8042 *kbc, uint8_t command)
{
    kbc->last_write_command = true;
    kbc->pending_command = 0; /* a command in place of an expected data byte replaces it */
    if (command >= 0x20 && command <= 0x3F) {
        controller_output(kbc, kbc->ram[command & 0x1Fu], 0); /* 0x20: the command byte */
        return;
    }
    if (command >= 0x60 && command <= 0x7F) {
        kbc->pending_command = command; /* 0x60: write the command byte */
        return;
    }
    if (command >= 0xF0) {
        /* pulse output port bits 0-3 where the command's low nibble has a 0: bit 0 is the
         * processor's reset line (0xFE is the usual reset) */
        if (!(command & OUTPUT_RESET))
            pulse_reset(kbc);
        return;
    }
    switch (command) {
    case 0xA7: set_command_byte(kbc, (uint8_t)(command_byte(kbc) | CCB_AUX_DISABLE)); break;
    case 0xA8: set_command_byte(kbc, (uint8_t)(command_byte(kbc) & ~CCB_AUX_DISABLE)); break;
    case 0xA9: controller_output(kbc, 0x00, 0); break; /* auxiliary interface test: no error */
    case 0xAA:
        /* self test: passes (0x55) and sets the system flag */
        kbc->ram[0] |= CCB_SYS;
        controller_output(kbc, 0x55, 0);
        break;
    case 0xAB: controller_output(kbc, 0x00, 0); break; /* keyboard interface test: no error */
    case 0xAD: set_command_byte(kbc, (uint8_t)(command_byte(kbc) | CCB_KBD_DISABLE)); break;
    case 0xAE: set_command_byte(kbc, (uint8_t)(command_byte(kbc) & ~CCB_KBD_DISABLE)); break;
    case 0xC0: controller_output(kbc, INPUT_PORT, 0); break;
    case 0xD0: controller_output(kbc, read_output_port(kbc), 0); break;
    case 0xD1: /* write output port */
    case 0xD2: /* write keyboard output buffer */
    case 0xD3: /* write auxiliary output buffer */
    case 0xD4: /* write to the auxiliary device */
        kbc->pending_command = command;
        break;
    case 0xDD: kbc->output_port &= (uint8_t)~OUTPUT_A20; break; /* A20 off (HP Vectra style) */
    case 0xDF: kbc->output_port |= OUTPUT_A20; break;
    default: break; /* not implemented: ignored, as an unknown command is by the 8042 */
    }
}

static void write_data(struct x86_i8042 *kbc, uint8_t byte)
{
    kbc->last_write_command = false;
    uint8_t command = kbc->pending_command;
    kbc->pending_command = 0;
    if (command >= 0x60 && command <= 0x7F) {
        if ((command & 0x1Fu) == 0)
            set_command_byte(kbc, byte);
        else
            kbc->ram[command & 0x1Fu] = byte;
        return;
    }
    switch (command) {
    case 0xD1: write_output_port(kbc, byte); break;
    case 0xD2: controller_output(kbc, byte, 0); break;        /* as if from the keyboard */
    case 0xD3: controller_output(kbc, byte, FROM_AUX); break; /* as if from the aux device */
    case 0xD4:
        /* nothing answers on the auxiliary port: the transmission times out */
        controller_output(kbc, AUX_TIMEOUT_BYTE, FROM_AUX | TIMED_OUT);
        break;
    default:
        /* to the keyboard; sending re-enables the keyboard interface, as QEMU's controller
         * does (the controller must release the clock line to transmit) */
        keyboard_receive(kbc, byte);
        set_command_byte(kbc, (uint8_t)(command_byte(kbc) & ~CCB_KBD_DISABLE));
        break;
    }
}

/* ------------------------------------------------------------------ ports */

/* Both ports are single bytes: in a wider access the other bytes belong to other ports
 * (0x61 is the PIT's port B), unclaimed here, all ones; a wider write uses its low byte */
static uint64_t upper_ones(unsigned size)
{
    return size >= 8 ? ~0xFFull : (((1ull << (8 * size)) - 1) & ~0xFFull);
}

static uint64_t data_port_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_i8042 *kbc = opaque;
    if (offset != 0)
        return ~0ull;
    return read_data(kbc) | upper_ones(size);
}

static void data_port_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    if (offset == 0)
        write_data(opaque, (uint8_t)value);
}

static uint64_t command_port_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct x86_i8042 *kbc = opaque;
    if (offset != 0)
        return ~0ull;
    return read_status(kbc) | upper_ones(size);
}

static void command_port_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    if (offset == 0)
        write_command(opaque, (uint8_t)value);
}

/* ------------------------------------------------------------------ setup */

static void power_on(struct x86_i8042 *kbc)
{
    memset(kbc->ram, 0, sizeof(kbc->ram));
    kbc->ram[0] = CCB_POWER_ON;
    kbc->output = 0;
    kbc->output_full = false;
    kbc->output_aux = false;
    kbc->timeout = false;
    kbc->last_write_command = false;
    kbc->pending_command = 0;
    kbc->output_port = OUTPUT_POWER_ON;
    kbc->controller_head = kbc->controller_count = 0;
    kbc->translate_break = false;
    keyboard_clear(kbc);
    keyboard_defaults(kbc);
    kbc->kbd_last_sent = KBD_BAT_OK;
    kbc->kbd_scanning = true;
}

void x86_i8042_init(struct x86_i8042 *kbc)
{
    memset(kbc, 0, sizeof(*kbc));
    power_on(kbc);
}

void x86_i8042_reset(struct x86_i8042 *kbc)
{
    power_on(kbc);
    update_irqs(kbc);
}

x86irq_status x86_i8042_attach(struct x86_i8042 *kbc, struct x86_bus *bus)
{
    x86irq_status status = x86_bus_add_ports(bus, X86_I8042_DATA_PORT, 1, data_port_read,
                                             data_port_write, kbc, "i8042-data");
    if (status != X86IRQ_OK)
        return status;
    return x86_bus_add_ports(bus, X86_I8042_COMMAND_PORT, 1, command_port_read,
                             command_port_write, kbc, "i8042-command");
}
