"""The Pythonic layer over the C API: Machine, its CPUs, its memory, hooks and errors."""

import ctypes
import dataclasses
import os
import typing

from . import _lib
from ._lib import lib, text, UINT64_MAX
from .enums import (Status, StopReason, CpuState, EventOrigin, Register, Register64, WatchKind,
                    TraceKind, NestingRule, TRACE_ALL, HookKind, Access)


def _trace_mask(kinds):
    """A TraceKind, an iterable of them, or a mask of TraceKind.bit, as a mask"""
    if isinstance(kinds, TraceKind):  # an IntEnum is an int too: one kind, not a mask
        return kinds.bit
    if isinstance(kinds, int):
        return kinds
    mask = 0
    for k in kinds:
        mask |= 1 << TraceKind(k)
    return mask


class Error(Exception):
    """A call of the library failed: .status is the Status, .message the library's own
    message (x86irq_last_error), .function the C function that failed."""

    def __init__(self, status, message, function=None):
        try:
            status = Status(status)
        except ValueError:
            pass
        self.status = status
        self.message = message
        self.function = function
        name = status.name if isinstance(status, Status) else str(status)
        super().__init__(f"{message} ({name})" if message else name)


def _enum(cls, value):
    """value as cls when it is one of its members, else the plain int (a newer library's)."""
    try:
        return cls(value)
    except ValueError:
        return value


def _path(value):
    return None if value is None else os.fsencode(value)


def _str(value):
    return None if value is None else value.encode()


# ------------------------------------------------------------------ what callbacks receive

@dataclasses.dataclass(frozen=True, slots=True)
class TraceEvent:
    """One interrupt trace event (struct x86irq_trace_event); fields that do not apply to a
    kind are 0 (docs/observability.md has what each kind fills)."""
    cycle: int
    kind: TraceKind
    vector: int
    eip: int
    cs: int
    origin: EventOrigin
    cpl: int
    from_cpl: int
    depth: int
    has_error_code: bool
    level: int
    line: int
    error_code: int
    rule: int
    esp: int
    ss: int
    gate: int
    core: int
    code_bits: int
    symbol: str
    detail: typing.Optional[str]
    thread: int
    previous_thread: int

    @classmethod
    def _from_c(cls, e):
        return cls(e.cycle, _enum(TraceKind, e.kind), e.vector, e.eip, e.cs,
                   _enum(EventOrigin, e.origin), e.cpl, e.from_cpl, e.depth,
                   bool(e.has_error_code), e.level, e.line, e.error_code,
                   _enum(NestingRule, e.rule) if e.kind == TraceKind.NESTING else e.rule,
                   e.esp, e.ss, e.gate, e.core, e.code_bits,
                   e.symbol.decode("utf-8", "replace"),
                   e.detail.decode("utf-8", "replace") if e.detail else None,
                   e.thread, e.previous_thread)


@dataclasses.dataclass(frozen=True, slots=True)
class InstructionInfo:
    """The instruction an instruction hook is called for (struct x86irq_instruction_info)."""
    cycle: int
    eip: int
    linear: int
    cs: int
    bytes: bytes
    mode_bits: int
    cpu: int


@dataclasses.dataclass(frozen=True, slots=True)
class HookEvent:
    """What an add_hook hook is called with (struct x86irq_hook_event): trace for TRACE and
    INTERRUPT hooks, instruction for INSTRUCTION hooks and memory fetches; address (linear,
    or the port), physical (None: not mapped), access, length and value (ports) for MEMORY
    and PORT hooks."""
    kind: HookKind
    cpu: int
    cycle: int
    trace: typing.Optional[TraceEvent]
    instruction: typing.Optional[InstructionInfo]
    address: int
    physical: typing.Optional[int]
    access: Access
    length: int
    value: int

    @classmethod
    def _from_c(cls, e):
        instruction = None
        if e.instruction:
            i = e.instruction.contents
            instruction = InstructionInfo(i.cycle, i.eip, i.linear, i.cs, bytes(i.bytes[:i.length]),
                                          i.mode_bits, i.cpu)
        return cls(_enum(HookKind, e.kind), e.cpu, e.cycle,
                   TraceEvent._from_c(e.trace.contents) if e.trace else None, instruction,
                   e.address, None if e.physical == UINT64_MAX else e.physical,
                   Access(e.access), e.length, e.value)


@dataclasses.dataclass(frozen=True, slots=True)
class EventRecord:
    """One event of a triple fault's chain (struct x86irq_event_record)."""
    cycle: int
    eip: int
    error_code: typing.Optional[int]
    cs: int
    vector: int
    origin: EventOrigin


@dataclasses.dataclass(frozen=True, slots=True)
class WatchpointHit:
    watch_address: int
    kind: WatchKind
    access_address: int
    access_size: int
    write: bool


@dataclasses.dataclass(frozen=True)
class NicStatistics:
    """What the NIC did with the wire's frames (struct x86irq_nic_statistics)."""
    received: int
    transmitted: int
    receiver_disabled: int
    link_down: int
    undersize: int
    oversize: int
    filtered: int
    no_bus_master: int
    no_descriptors: int
    receive_dma_error: int
    transmit_dropped: int


# ------------------------------------------------------------------ registers as attributes

def _register_property(reg, wide):
    get = (lambda self: self._cpu_view().get64(reg)) if wide else \
        (lambda self: self._cpu_view().get(reg))
    put = (lambda self, v: self._cpu_view().set64(reg, v)) if wide else \
        (lambda self, v: self._cpu_view().set(reg, v))
    view = "64-bit" if wide else "32-bit"
    return property(get, put, doc=f"{reg.name.lower()} ({view} view)")


def _with_registers(cls):
    """Give cls a property per register: the 32-bit enum's names (eax, eip, cr0...), then the
    64-bit enum's that are not among them (rax, r8, rip, efer, gs_base...)."""
    for reg in Register:
        setattr(cls, reg.name.lower(), _register_property(reg, False))
    for reg in Register64:
        if reg.name not in Register.__members__:
            setattr(cls, reg.name.lower(), _register_property(reg, True))
    return cls


def _register(name, enum):
    if isinstance(name, str):
        try:
            return enum[name.upper()]
        except KeyError:
            raise ValueError(f"no register {name!r} in {enum.__name__}") from None
    return enum(name)


def _check_value(value, bits):
    value = int(value)
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{value:#x} does not fit in {bits} bits")
    return value


@_with_registers
class Cpu:
    """One processor of a machine: its registers as attributes (cpu.eax, cpu.rip), its state
    and counters, its view of memory through its page tables (cpu.memory)."""

    def __init__(self, machine, index):
        self.machine = machine
        self.index = index
        self.memory = Memory(machine, cpu=index)

    def _cpu_view(self):
        return self

    def __repr__(self):
        return f"<x86irq.Cpu {self.index} of {self.machine!r}>"

    def get(self, reg):
        """A register of the 32-bit view by enum or name ("eax")."""
        reg = _register(reg, Register)
        value = ctypes.c_uint32()
        m = self.machine
        m._check(lib.x86irq_get_cpu_register(m._h, self.index, reg, ctypes.byref(value)),
                 "x86irq_get_cpu_register")
        return value.value

    def set(self, reg, value):
        reg = _register(reg, Register)
        m = self.machine
        m._check(lib.x86irq_set_cpu_register(m._h, self.index, reg, _check_value(value, 32)),
                 "x86irq_set_cpu_register")

    def get64(self, reg):
        """A register of the 64-bit view by enum or name ("rax", "efer")."""
        reg = _register(reg, Register64)
        value = ctypes.c_uint64()
        m = self.machine
        m._check(lib.x86irq_get_cpu_register64(m._h, self.index, reg, ctypes.byref(value)),
                 "x86irq_get_cpu_register64")
        return value.value

    def set64(self, reg, value):
        reg = _register(reg, Register64)
        m = self.machine
        m._check(lib.x86irq_set_cpu_register64(m._h, self.index, reg, _check_value(value, 64)),
                 "x86irq_set_cpu_register64")

    def registers(self):
        """Every register of the 32-bit view, as a dict by name."""
        return {reg.name.lower(): self.get(reg) for reg in Register}

    @property
    def state(self):
        return _enum(CpuState, lib.x86irq_get_cpu_state(self.machine._h, self.index))

    @property
    def cycles(self):
        """This CPU's own cycle counter (its TSC runs from it)."""
        return lib.x86irq_cpu_cycles(self.machine._h, self.index)

    @property
    def instructions(self):
        return lib.x86irq_cpu_instructions(self.machine._h, self.index)

    def raise_nmi(self):
        self.machine._check(lib.x86irq_raise_cpu_nmi(self.machine._h, self.index),
                            "x86irq_raise_cpu_nmi")

    def raise_init(self):
        self.machine._check(lib.x86irq_raise_cpu_init(self.machine._h, self.index),
                            "x86irq_raise_cpu_init")

    def translate(self, linear):
        """The physical address of a linear one as this CPU maps it now."""
        physical = ctypes.c_uint64()
        self.machine._check(lib.x86irq_translate_linear(self.machine._h, self.index, linear,
                                                        ctypes.byref(physical)),
                            "x86irq_translate_linear")
        return physical.value


# ------------------------------------------------------------------ memory

class Memory:
    """Guest memory as a byte sequence: memory[a:b] reads bytes, memory[i] one byte as an int;
    assigning to them writes (memory[a:] = data writes len(data) bytes at a). Physical (RAM
    only, machine.memory) or linear as one CPU sees it (cpu.memory). A range the library
    refuses raises Error with its message (RANGE): slices are not clipped to RAM's end."""

    def __init__(self, machine, cpu=None):
        self._machine = machine
        self._cpu = cpu

    def __len__(self):
        if self._cpu is not None:
            raise TypeError("a linear address space has no length")
        return self._machine.ram_size

    def _bounds(self, key):
        if key.step not in (None, 1):
            raise ValueError("guest memory slices take no step")
        start, stop = key.start, key.stop
        if self._cpu is None:
            # Python's negative indices count from the end of RAM
            start = 0 if start is None else start + len(self) if start < 0 else start
            if stop is not None and stop < 0:
                stop += len(self)
        elif (start is not None and start < 0) or (stop is not None and stop < 0):
            raise ValueError("linear addresses are not negative")
        return (0 if start is None else start), stop

    def read(self, address, size):
        if address < 0 or size < 0:
            raise ValueError("negative address or size")
        buffer = ctypes.create_string_buffer(size)
        m = self._machine
        if self._cpu is None:
            m._check(lib.x86irq_read_physical(m._h, address, buffer, size),
                     "x86irq_read_physical")
        else:
            m._check(lib.x86irq_read_linear(m._h, self._cpu, address, buffer, size),
                     "x86irq_read_linear")
        return buffer.raw

    def write(self, address, data):
        data = bytes(data)
        if address < 0:
            raise ValueError("negative address")
        m = self._machine
        if self._cpu is None:
            m._check(lib.x86irq_write_physical(m._h, address, data, len(data)),
                     "x86irq_write_physical")
        else:
            m._check(lib.x86irq_write_linear(m._h, self._cpu, address, data, len(data)),
                     "x86irq_write_linear")

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop = self._bounds(key)
            if stop is None:
                if self._cpu is not None:
                    raise ValueError("a linear slice needs its end")
                stop = len(self)
            return self.read(start, max(0, stop - start))
        if self._cpu is None and key < 0:
            key += len(self)
        return self.read(key, 1)[0]

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            start, stop = self._bounds(key)
            data = bytes(value)
            if stop is not None and stop - start != len(data):
                raise ValueError(f"{len(data)} bytes for a slice of {max(0, stop - start)}: "
                                 "guest memory does not change size")
            self.write(start, data)
        else:
            if self._cpu is None and key < 0:
                key += len(self)
            self.write(key, bytes([value]))

    def __iter__(self):
        # A whole RAM byte by byte is never what one means; slices are
        raise TypeError("iterate over a slice of guest memory (memory[a:b])")


# ------------------------------------------------------------------ the machine

@_with_registers
class Machine:
    """An emulated PC: create it with a configuration, load a guest, run it.

        with x86irq.Machine(ram_size=64 << 20, cpus=2) as m:
            m.load_elf("hello.elf")
            reason = m.run()

    CPU 0's registers are attributes (m.eax, m.eip, m.rax); m.cpu(i) is another CPU;
    m.memory is physical memory. One thread at a time per machine, as the C API says.
    """

    def __init__(self, *, ram_size=None, cpus=None, cpu_hz=None, smp_quantum=None, isa=None,
                 rtc_epoch=None, linux_entry=None, no_default_devices=False, nic_msi=False,
                 nic_peer=False, serial=None, collect_serial=True):
        self._handle = None
        self._pending = None       # the first exception a callback raised during a call
        self._depth = 0            # Python callbacks of this machine on the stack now
        self._retired = []         # replaced callbacks, kept until no callback can be running
        self._events = {}          # scheduled event key -> (function, id)
        self._event_keys = {}      # id -> key
        self._next_event = 1
        self._devices = []         # device callbacks: alive as long as the machine
        self._trace_cb = self._instruction_cb = self._nic_cb = self._ack_cb = None
        self._hooks = {}           # handle -> the C thunk of an add_hook hook
        self._serial = bytearray()
        self._collect_serial = collect_serial
        self.on_serial = serial

        config = _lib.Config()
        lib.x86irq_config_init(ctypes.byref(config))
        for name, value in (("ram_size", ram_size), ("cpus", cpus), ("cpu_hz", cpu_hz),
                            ("smp_quantum", smp_quantum), ("isa", isa),
                            ("rtc_epoch", rtc_epoch), ("linux_entry", linux_entry)):
            if value is not None:
                setattr(config, name, int(value))
        config.no_default_devices = int(bool(no_default_devices))
        config.nic_msi = int(bool(nic_msi))
        config.nic_peer = int(bool(nic_peer))
        handle = _lib.MachineP()
        status = lib.x86irq_machine_create(ctypes.byref(config), ctypes.byref(handle))
        if status != Status.OK:
            # The library has no machine to hold a message: say what the bounds are
            raise Error(status, "x86irq_machine_create: " + text(lib.x86irq_status_string(status))
                        + f" (RAM 1 MiB to 3 GiB: {config.ram_size}; CPUs 1 to 64: "
                        f"{config.cpus}; clock 1 MHz to 100 GHz: {config.cpu_hz}; "
                        f"linux_entry 0, 32 or 64: {config.linux_entry}; isa {config.isa:#x})",
                        "x86irq_machine_create")
        self._handle = handle.value
        self.ram_size = config.ram_size
        self.cpu_hz = config.cpu_hz
        self.memory = Memory(self)
        self._cpus = [Cpu(self, i) for i in range(lib.x86irq_cpu_count(self._handle))]
        # The C side holds bare function pointers: these objects must outlive the machine's use
        self._serial_c = _lib.SERIAL_FN(self._on_serial_byte)
        self._event_c = _lib.EVENT_FN(self._guard(self._on_event, None))
        lib.x86irq_set_serial_output(self._handle, self._serial_c, None)

    # -------------------------------------------------------------- lifetime and errors

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # A machine never closed; at interpreter exit the module's globals may be gone already
        try:
            if getattr(self, "_handle", None) and not self._depth:
                lib.x86irq_machine_destroy(self._handle)
                self._handle = None
        except (AttributeError, TypeError):
            pass

    def close(self):
        """Destroy the machine; closing a closed machine does nothing. From one of its own
        callbacks the library refuses (the run is on the stack): Error(ERR_STATE)."""
        if not self._handle:
            return
        if self._depth:
            lib.x86irq_machine_destroy(self._handle)  # does nothing; says why
            raise Error(Status.ERR_STATE, text(lib.x86irq_last_error(self._handle)),
                        "x86irq_machine_destroy")
        lib.x86irq_machine_destroy(self._handle)
        self._handle = None
        self._devices.clear()
        self._events.clear()
        self._event_keys.clear()
        self._retired.clear()

    @property
    def closed(self):
        return not self._handle

    @property
    def _h(self):
        if not self._handle:
            raise Error(Status.ERR_STATE, "the machine is closed")
        return self._handle

    def __repr__(self):
        state = "closed" if self.closed else f"{len(self._cpus)} CPU, {self.ram_size >> 20} MiB"
        return f"<x86irq.Machine {state}>"

    def _check(self, status, function):
        """After a C call: a callback's exception first (it caused what followed), then the
        call's own failure with the library's message."""
        self._raise_pending()
        if status != Status.OK:
            raise Error(status, text(lib.x86irq_last_error(self._handle)), function)

    def _raise_pending(self):
        if self._pending is not None and not self._depth:
            e, self._pending = self._pending, None
            raise e

    def _guard(self, fn, failed):
        """fn made safe to call from C: nothing it raises may unwind through the library's
        frames (ctypes would print and drop it). The first exception is kept, the run asked to
        stop, and _check raises it when the C call returns; until then the machine's callbacks
        are skipped (returning `failed`)."""
        def guarded(*args):
            if self._pending is not None:
                return failed
            self._depth += 1
            try:
                return fn(*args)
            except BaseException as e:  # KeyboardInterrupt too: it stops the run
                self._pending = e
                if self._handle:
                    lib.x86irq_request_stop(self._handle)
                return failed
            finally:
                self._depth -= 1
        return guarded

    def _retire(self, callback):
        # A hook replaced from inside a callback may be the one running: keep its thunk alive
        if callback is not None:
            self._retired.append(callback)

    def _after_call(self):
        if not self._depth:
            self._retired.clear()

    # -------------------------------------------------------------- loading

    def load_elf(self, path, cmdline=None):
        """Load an ELF or Multiboot guest; cmdline becomes the Multiboot command line."""
        self._check(lib.x86irq_load_elf(self._h, _path(path), _str(cmdline)), "x86irq_load_elf")

    def load_elf_bytes(self, image, name="image", cmdline=None):
        image = bytes(image)
        self._check(lib.x86irq_load_elf_memory(self._h, image, len(image), _str(name),
                                               _str(cmdline)), "x86irq_load_elf_memory")

    def load_linux(self, kernel, initrd=None, cmdline=None):
        """Load a Linux bzImage with an optional initrd and command line, as qemu -kernel."""
        self._check(lib.x86irq_load_linux(self._h, _path(kernel), _path(initrd), _str(cmdline)),
                    "x86irq_load_linux")

    def load_linux_bytes(self, kernel, initrd=None, cmdline=None, name="bzImage"):
        kernel = bytes(kernel)
        initrd = None if initrd is None else bytes(initrd)
        self._check(lib.x86irq_load_linux_memory(self._h, kernel, len(kernel), initrd,
                                                 0 if initrd is None else len(initrd),
                                                 _str(cmdline), _str(name)),
                    "x86irq_load_linux_memory")

    def load_symbols(self, path):
        """Replace the symbols with a System.map or kallsyms."""
        self._check(lib.x86irq_load_symbols(self._h, _path(path)), "x86irq_load_symbols")

    def symbolize(self, address):
        """"symbol+0xoff" for a guest address, "" when no symbol covers it."""
        buffer = ctypes.create_string_buffer(256)
        lib.x86irq_symbolize(self._h, address, buffer, len(buffer))
        return text(buffer.value)

    def symbol(self, name):
        """A symbol's address (32- or 64-bit)."""
        address = ctypes.c_uint64()
        self._check(lib.x86irq_symbol_address64(self._h, _str(name), ctypes.byref(address)),
                    "x86irq_symbol_address64")
        return address.value

    # -------------------------------------------------------------- running

    def run(self, cycles=None):
        """Run for at most `cycles` cycles (None: until the guest stops); the StopReason. An
        exception raised by a callback during the run stops it and is raised here."""
        reason = ctypes.c_int()
        budget = UINT64_MAX if cycles is None else _check_value(cycles, 64)
        try:
            self._check(lib.x86irq_run(self._h, budget, ctypes.byref(reason)), "x86irq_run")
        finally:
            self._after_call()
        return _enum(StopReason, reason.value)

    def step(self, cpu=0, cycles=None):
        """Run until CPU `cpu` reaches its next instruction boundary (StopReason.STEP)."""
        reason = ctypes.c_int()
        budget = UINT64_MAX if cycles is None else _check_value(cycles, 64)
        try:
            self._check(lib.x86irq_step(self._h, cpu, budget, ctypes.byref(reason)),
                        "x86irq_step")
        finally:
            self._after_call()
        return _enum(StopReason, reason.value)

    def request_stop(self):
        """From a callback: the run returns at the next boundary (StopReason.REQUESTED)."""
        lib.x86irq_request_stop(self._h)

    @property
    def stop_reason(self):
        return _enum(StopReason, lib.x86irq_stop_reason_of(self._h))

    @property
    def stop_cpu(self):
        """The CPU the last stop came from, None when it was the machine's."""
        cpu = lib.x86irq_stop_cpu(self._h)
        return None if cpu < 0 else cpu

    @property
    def exit_value(self):
        """What the guest wrote to the debug-exit port (after StopReason.DEBUG_EXIT)."""
        return lib.x86irq_exit_value(self._h)

    @property
    def cycles(self):
        return lib.x86irq_cycles(self._h)

    @property
    def instructions(self):
        return lib.x86irq_instructions(self._h)

    def shutdown_events(self):
        """After a SHUTDOWN stop: the chain of events that ended in the triple fault."""
        records = (_lib.EventRecordC * 16)()
        n = lib.x86irq_shutdown_events(self._h, records, len(records))
        return [EventRecord(r.cycle, r.eip, r.error_code if r.has_error_code else None, r.cs,
                            r.vector, _enum(EventOrigin, r.origin))
                for r in records[:min(n, len(records))]]

    def add_breakpoint(self, address):
        self._check(lib.x86irq_add_breakpoint(self._h, address), "x86irq_add_breakpoint")

    def remove_breakpoint(self, address):
        self._check(lib.x86irq_remove_breakpoint(self._h, address), "x86irq_remove_breakpoint")

    def add_watchpoint(self, address, length, kind=WatchKind.WRITE):
        self._check(lib.x86irq_add_watchpoint(self._h, address, length, kind),
                    "x86irq_add_watchpoint")

    def remove_watchpoint(self, address, length, kind=WatchKind.WRITE):
        self._check(lib.x86irq_remove_watchpoint(self._h, address, length, kind),
                    "x86irq_remove_watchpoint")

    def watchpoint_hit(self):
        watch, access = ctypes.c_uint64(), ctypes.c_uint64()
        kind, size, write = ctypes.c_int(), ctypes.c_uint(), ctypes.c_int()
        self._check(lib.x86irq_watchpoint_hit(self._h, ctypes.byref(watch), ctypes.byref(kind),
                                              ctypes.byref(access), ctypes.byref(size),
                                              ctypes.byref(write)), "x86irq_watchpoint_hit")
        return WatchpointHit(watch.value, _enum(WatchKind, kind.value), access.value, size.value,
                             bool(write.value))

    # -------------------------------------------------------------- processors

    def cpu(self, index):
        """CPU `index` (0 is the bootstrap processor, whose registers are the machine's)."""
        if not 0 <= index < len(self._cpus):
            raise IndexError(f"CPU {index}: the machine has {len(self._cpus)}")
        return self._cpus[index]

    @property
    def cpus(self):
        return list(self._cpus)

    def _cpu_view(self):
        return self._cpus[0]

    def registers(self):
        return self._cpus[0].registers()

    # -------------------------------------------------------------- serial port

    def _on_serial_byte(self, opaque, byte):
        # Collected even after a callback failed: the output up to the stop is all there
        if self._collect_serial:
            self._serial.append(byte)
        if self._on_serial_guarded is not None:
            self._on_serial_guarded(bytes((byte,)))

    @property
    def on_serial(self):
        """The callable given each byte of COM1's output as a one-byte bytes (None: none)."""
        return self._on_serial

    @on_serial.setter
    def on_serial(self, fn):
        self._on_serial = fn
        self._on_serial_guarded = None if fn is None else self._guard(fn, None)

    @property
    def serial_output(self):
        """What the guest sent on COM1 so far (with collect_serial, the default)."""
        return bytes(self._serial)

    def clear_serial(self):
        self._serial.clear()

    def serial_input(self, data):
        """Queue bytes for COM1's receive line (they arrive at the guest's line rate)."""
        data = bytes(data)
        self._check(lib.x86irq_serial_input(self._h, data, len(data)), "x86irq_serial_input")

    # -------------------------------------------------------------- hooks

    def set_trace_hook(self, fn, kinds=None):
        """Call fn(TraceEvent) for every interrupt trace event of the kinds given (a TraceKind,
        an iterable of them, or a mask of TraceKind.bit; None: all). fn None unsubscribes."""
        mask = TRACE_ALL if kinds is None else _trace_mask(kinds)
        if fn is None or mask == 0:
            lib.x86irq_set_trace_hook(self._h, 0, _lib.NULL_TRACE, None)
            self._retire(self._trace_cb)
            self._trace_cb = None
            return

        def on_trace(opaque, event):
            fn(TraceEvent._from_c(event.contents))
        callback = _lib.TRACE_FN(self._guard(on_trace, None))
        lib.x86irq_set_trace_hook(self._h, mask, callback, None)
        self._retire(self._trace_cb)
        self._trace_cb = callback
        self._after_call()

    def add_hook(self, kind, fn, first=0, last=UINT64_MAX, trace=None, access=0):
        """Add fn(HookEvent) as a hook of `kind` (HookKind) and return its handle; any number
        of hooks of each kind, beside set_trace_hook's and set_instruction_hook's slots.
        first, last: the range (addresses, ports or vectors), inclusive. trace: TRACE and
        INTERRUPT hooks' kinds (a TraceKind, an iterable of them or a mask; None: all).
        access: MEMORY and PORT hooks' Access flags (0: every kind). docs/api.md "Hooks"."""
        kind = HookKind(kind)
        f = _lib.HookFilterC()
        lib.x86irq_hook_filter_init(ctypes.byref(f))
        f.first, f.last, f.access = first, last, int(access)
        if trace is not None:
            f.trace_mask = _trace_mask(trace)

        def on_hook(machine, event, user_data):
            fn(HookEvent._from_c(event.contents))
        callback = _lib.HOOK_FN(self._guard(on_hook, None))
        handle = ctypes.c_uint64()
        self._check(lib.x86irq_hook_add(self._h, kind, ctypes.byref(f), callback, None,
                                        ctypes.byref(handle)), "x86irq_hook_add")
        self._hooks[handle.value] = callback
        return handle.value

    def remove_hook(self, handle):
        """Remove a hook add_hook gave (from inside a hook too)."""
        self._check(lib.x86irq_hook_remove(self._h, handle), "x86irq_hook_remove")
        self._retire(self._hooks.pop(handle, None))
        self._after_call()

    def set_instruction_hook(self, fn):
        """Call fn(InstructionInfo) before every instruction (slow); None unsets."""
        if fn is None:
            lib.x86irq_set_instruction_hook(self._h, _lib.NULL_INSTRUCTION, None)
            callback = None
        else:
            def on_instruction(opaque, info):
                i = info.contents
                fn(InstructionInfo(i.cycle, i.eip, i.linear, i.cs, bytes(i.bytes[:i.length]),
                                   i.mode_bits, i.cpu))
            callback = _lib.INSTRUCTION_FN(self._guard(on_instruction, None))
            lib.x86irq_set_instruction_hook(self._h, callback, None)
        self._retire(self._instruction_cb)
        self._instruction_cb = callback
        self._after_call()

    def set_nesting_rules(self, rules):
        """Which nesting rules report NESTING events: an iterable of NestingRule or a mask."""
        if isinstance(rules, NestingRule):  # one rule, not a mask
            rules = [rules]
        mask = rules if isinstance(rules, int) else sum(1 << NestingRule(r) for r in set(rules))
        lib.x86irq_set_nesting_rules(self._h, mask)

    @property
    def nesting_max_depth(self):
        return lib.x86irq_nesting_max_depth(self._h)

    def set_phase_symbols(self, spec):
        """Phases and thread switches from guest functions ("linux", "GLOB=PHASE,..."; None
        removes them)."""
        self._check(lib.x86irq_set_phase_symbols(self._h, _str(spec)), "x86irq_set_phase_symbols")

    def disassemble(self, code, address=0, mode_bits=32):
        code = bytes(code)
        buffer = ctypes.create_string_buffer(160)
        lib.x86irq_disassemble(self._h, code, len(code), address, mode_bits, buffer,
                               len(buffer))
        return text(buffer.value)

    # -------------------------------------------------------------- time

    def _on_event(self, machine, opaque):
        entry = self._events.pop(opaque, None)
        if entry is not None:
            fn, event_id = entry
            self._event_keys.pop(event_id, None)
            fn(self)

    def schedule(self, cycle, fn):
        """Call fn(machine) at absolute cycle `cycle` (at the first boundary at or after it);
        returns the event's id for cancel()."""
        # The opaque pointer is a key of ours: the function stays a Python object
        key = self._next_event
        self._next_event += 1
        event_id = ctypes.c_uint64()
        self._check(lib.x86irq_schedule_event(self._h, cycle, self._event_c, key,
                                              ctypes.byref(event_id)), "x86irq_schedule_event")
        self._events[key] = (fn, event_id.value)
        self._event_keys[event_id.value] = key
        return event_id.value

    def cancel(self, event_id):
        self._check(lib.x86irq_cancel_event(self._h, event_id), "x86irq_cancel_event")
        self._events.pop(self._event_keys.pop(event_id, None), None)

    # -------------------------------------------------------------- pins and lines

    def set_irq_line(self, gsi, level):
        self._check(lib.x86irq_set_irq_line(self._h, gsi, int(bool(level))),
                    "x86irq_set_irq_line")

    def pulse_irq_line(self, gsi):
        self._check(lib.x86irq_pulse_irq_line(self._h, gsi), "x86irq_pulse_irq_line")

    def raise_nmi(self, cpu=0):
        self.cpu(cpu).raise_nmi()

    def raise_init(self, cpu=0):
        self.cpu(cpu).raise_init()

    def set_intr(self, level):
        self._check(lib.x86irq_set_intr(self._h, int(bool(level))), "x86irq_set_intr")

    def set_intr_acknowledge(self, fn):
        """The INTA cycle: fn() returns the vector, or -1 when there is nothing to deliver."""
        if fn is None:
            lib.x86irq_set_intr_acknowledge(self._h, _lib.NULL_INTR_ACK, None)
            callback = None
        else:
            callback = _lib.INTR_ACK_FN(self._guard(lambda opaque: int(fn()), -1))
            lib.x86irq_set_intr_acknowledge(self._h, callback, None)
        self._retire(self._ack_cb)
        self._ack_cb = callback
        self._after_call()

    # -------------------------------------------------------------- devices of the embedder

    def _device_callbacks(self, read, write):
        r = _lib.NULL_DEVICE_READ if read is None else _lib.DEVICE_READ_FN(
            self._guard(lambda opaque, offset, size: int(read(offset, size)) & UINT64_MAX,
                        UINT64_MAX))
        w = _lib.NULL_DEVICE_WRITE if write is None else _lib.DEVICE_WRITE_FN(
            self._guard(lambda opaque, offset, size, value: write(offset, size, value), None))
        return r, w

    def add_port_device(self, base, count, read=None, write=None):
        """Ports base..base+count-1: read(offset, size) -> value, write(offset, size, value)."""
        r, w = self._device_callbacks(read, write)
        self._check(lib.x86irq_add_port_device(self._h, base, count, r, w, None),
                    "x86irq_add_port_device")
        self._devices.append((r, w))

    def add_mmio_device(self, base, size, read=None, write=None):
        r, w = self._device_callbacks(read, write)
        self._check(lib.x86irq_add_mmio_device(self._h, base, size, r, w, None),
                    "x86irq_add_mmio_device")
        self._devices.append((r, w))

    # -------------------------------------------------------------- the NIC

    def nic_receive(self, frame):
        """A frame arrives from the wire: True if the NIC took it, False if it dropped it."""
        frame = bytes(frame)
        status = lib.x86irq_nic_receive(self._h, frame, len(frame))
        if status == Status.ERR_STATE:
            self._raise_pending()
            return False
        self._check(status, "x86irq_nic_receive")
        return True

    def set_nic_transmit(self, fn):
        """Call fn(frame: bytes, cycle) for every frame the guest transmits; None unsets."""
        if fn is None:
            lib.x86irq_set_nic_transmit(self._h, _lib.NULL_NIC_TRANSMIT, None)
            callback = None
        else:
            callback = _lib.NIC_TRANSMIT_FN(self._guard(
                lambda opaque, frame, length, cycle: fn(ctypes.string_at(frame, length), cycle),
                None))
            lib.x86irq_set_nic_transmit(self._h, callback, None)
        self._retire(self._nic_cb)
        self._nic_cb = callback
        self._after_call()

    def nic_statistics(self):
        stats = _lib.NicStatisticsC()
        stats.size = ctypes.sizeof(stats)
        self._check(lib.x86irq_nic_get_statistics(self._h, ctypes.byref(stats)),
                    "x86irq_nic_get_statistics")
        return NicStatistics(**{f.name: getattr(stats, f.name)
                                for f in dataclasses.fields(NicStatistics)})

    # -------------------------------------------------------------- the cycle model

    def set_cost(self, name, cycles):
        self._check(lib.x86irq_set_cost(self._h, _str(name), cycles), "x86irq_set_cost")

    def get_cost(self, name):
        cycles = ctypes.c_uint()
        self._check(lib.x86irq_get_cost(self._h, _str(name), ctypes.byref(cycles)),
                    "x86irq_get_cost")
        return cycles.value

    # -------------------------------------------------------------- snapshots

    def snapshot(self):
        """The whole machine as bytes (x86irq_snapshot_save)."""
        data, size = ctypes.c_void_p(), ctypes.c_size_t()
        self._check(lib.x86irq_snapshot_save(self._h, ctypes.byref(data), ctypes.byref(size)),
                    "x86irq_snapshot_save")
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            lib.x86irq_snapshot_free(data)

    def restore(self, snapshot):
        snapshot = bytes(snapshot)
        self._check(lib.x86irq_snapshot_restore(self._h, snapshot, len(snapshot)),
                    "x86irq_snapshot_restore")


def cost_classes():
    """The cycle model's cost classes by name (docs/cycle-model.md)."""
    return [text(lib.x86irq_cost_class_name(i)) for i in range(lib.x86irq_cost_class_count())]


def version():
    """The loaded library's version string."""
    return text(lib.x86irq_version())
